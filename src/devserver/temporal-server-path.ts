/**
 * Finds the full Temporal server (`server`), its schema tool (`sql`) and the PostgreSQL schema files,
 * building the binaries from the Go module proxy when nothing else is there.
 * Binaries: TEMPORAL_SERVER_PATH / TEMPORAL_SQL_TOOL_PATH, the project's cache, `go install` into the cache.
 * Schemas: the server module in Go's module cache (`go mod download` fetches it when missing).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { cacheRoot, findOnPath, goInstall, isExecutable } from './cli-path.js';

/** v1.32.2 and later need a newer Go than CI has. */
export const TEMPORAL_SERVER_VERSION = 'v1.32.1';
const MODULE = 'go.temporal.io/server';
const PACKAGES = [`${MODULE}/cmd/server@${TEMPORAL_SERVER_VERSION}`, `${MODULE}/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`];

export interface TemporalServerBinaries {
  /** The server (`server --config-file … start`). */
  server: string;
  /** The SQL schema tool (`sql --plugin postgres12 … setup-schema`). */
  sqlTool: string;
  /** `schema/postgresql/v12` of the server module: `temporal/versioned` and `visibility/versioned`. */
  postgresSchemaDir: string;
}

export interface ResolveTemporalServerOptions {
  env?: NodeJS.ProcessEnv;
  /** Where built binaries are cached. @default `<package root>/.cache/temporal-server/<version>` */
  cacheDir?: string;
  /** Build with `go install` when the binaries are not found. @default true */
  build?: boolean;
  /** Progress messages (the build takes about 9 minutes and 2.6 GB once). @default stderr */
  log?: (message: string) => void;
}

export class TemporalServerNotFoundError extends Error {
  override readonly name = 'TemporalServerNotFoundError';
}

export function defaultTemporalServerCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), 'temporal-server', TEMPORAL_SERVER_VERSION);
}

/** Returns runnable `server` and `sql` binaries and the schema folder, or throws saying what is missing. */
export async function resolveTemporalServer(options: ResolveTemporalServerOptions = {}): Promise<TemporalServerBinaries> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const cacheDir = options.cacheDir ?? defaultTemporalServerCacheDir(env);
  const fromEnv = (variable: string, cached: string) => {
    const path = env[variable];
    if (path && !isExecutable(path)) throw new TemporalServerNotFoundError(`${variable}=${path} is not an executable file`);
    return path ?? (isExecutable(cached) ? cached : undefined);
  };
  let server = fromEnv('TEMPORAL_SERVER_PATH', join(cacheDir, 'server'));
  let sqlTool = fromEnv('TEMPORAL_SQL_TOOL_PATH', join(cacheDir, 'sql'));
  const go = findOnPath('go', env);

  if (!server || !sqlTool) {
    if (options.build === false || !go) {
      throw new TemporalServerNotFoundError(
        [
          `Temporal server ${TEMPORAL_SERVER_VERSION} not found in ${cacheDir}.`,
          `Build it with: GOBIN=${cacheDir} go install ${PACKAGES.join(' ')}`,
          'or set TEMPORAL_SERVER_PATH and TEMPORAL_SQL_TOOL_PATH to existing binaries.',
        ].join('\n'),
      );
    }
    log(`Building Temporal server ${TEMPORAL_SERVER_VERSION} with go install into ${cacheDir} (one time, ~9 minutes, 2.6 GB)…`);
    await goInstall(go, PACKAGES, cacheDir, { env, log, ErrorType: TemporalServerNotFoundError });
    server ??= join(cacheDir, 'server');
    sqlTool ??= join(cacheDir, 'sql');
    for (const binary of [server, sqlTool]) {
      if (!isExecutable(binary)) throw new TemporalServerNotFoundError(`go install finished but ${binary} is missing`);
    }
    log(`Temporal server ready: ${server}`);
  }
  if (!go) throw new TemporalServerNotFoundError(`the PostgreSQL schema of Temporal ${TEMPORAL_SERVER_VERSION} is read from Go's module cache, and go is not on PATH`);
  return { server, sqlTool, postgresSchemaDir: join(await serverModuleDir(go, env), 'schema', 'postgresql', 'v12') };
}

const run = promisify(execFile);
const downloadedModule = z.object({ Dir: z.string().optional(), Error: z.string().optional() });

/** The server module's source folder: where `go install` left it, else downloaded now (a few MB). */
async function serverModuleDir(go: string, env: NodeJS.ProcessEnv): Promise<string> {
  // Outside any module, so a surrounding go.mod or go.work cannot interfere.
  const options = { env, cwd: tmpdir() };
  const { stdout: modCache } = await run(go, ['env', 'GOMODCACHE'], options);
  const cached = join(modCache.trim(), `${MODULE}@${TEMPORAL_SERVER_VERSION}`);
  if (existsSync(join(cached, 'schema'))) return cached;
  const module = `${MODULE}@${TEMPORAL_SERVER_VERSION}`;
  const { stdout } = await run(go, ['mod', 'download', '-json', module], options).catch((err: { stdout?: string; message: string }) => {
    // On failure go still prints the JSON, with the reason in Error.
    if (err.stdout) return { stdout: err.stdout };
    throw new TemporalServerNotFoundError(`go mod download ${module} failed: ${err.message}`);
  });
  let parsed: z.infer<typeof downloadedModule> | undefined;
  try {
    parsed = downloadedModule.parse(JSON.parse(stdout));
  } catch {
    // reported below with what go printed
  }
  if (!parsed?.Dir) throw new TemporalServerNotFoundError(`go mod download ${module} gave no folder: ${parsed?.Error ?? stdout.trim().slice(0, 500)}`);
  return parsed.Dir;
}
