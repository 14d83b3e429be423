/**
 * Finds the Temporal CLI, building it from the Go module proxy when nothing else is there.
 * Order: TEMPORAL_CLI_PATH, `temporal` on PATH, the project's cache, `go install` into the cache.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Newer tags carry a replace directive in go.mod, so `go install …@latest` cannot build them. */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const GO_PACKAGE = 'github.com/temporalio/cli/cmd/temporal';

export interface ResolveTemporalCliOptions {
  env?: NodeJS.ProcessEnv;
  /** Where a built CLI is cached. @default `<package root>/.cache/temporal-cli/<version>` */
  cacheDir?: string;
  /** Build with `go install` when no CLI is found. @default true */
  build?: boolean;
  /** Progress messages (the build takes minutes). @default stderr */
  log?: (message: string) => void;
}

export class TemporalCliNotFoundError extends Error {
  override readonly name = 'TemporalCliNotFoundError';
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The project's cache of fetched tools (git-ignored). */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.TEMPORAL_HUME_CACHE_DIR ?? join(packageRoot, '.cache');
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), 'temporal-cli', TEMPORAL_CLI_VERSION);
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function findOnPath(command: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, command);
    if (dir && isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Returns a path to a runnable Temporal CLI, or throws with install instructions. */
export async function resolveTemporalCli(options: ResolveTemporalCliOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const fromEnv = env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new TemporalCliNotFoundError(`TEMPORAL_CLI_PATH=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  const onPath = findOnPath('temporal', env);
  if (onPath) return onPath;

  const cacheDir = options.cacheDir ?? defaultCacheDir(env);
  const cached = join(cacheDir, 'temporal');
  if (isExecutable(cached)) return cached;

  const go = findOnPath('go', env);
  if (options.build === false || !go) {
    throw new TemporalCliNotFoundError(
      [
        'Temporal CLI not found.',
        'Install it with one of:',
        `  go install ${GO_PACKAGE}@${TEMPORAL_CLI_VERSION}   (needs Go; then put it on PATH)`,
        '  brew install temporal   |   https://docs.temporal.io/cli#install',
        'or set TEMPORAL_CLI_PATH to an existing temporal binary.',
      ].join('\n'),
    );
  }
  log(`Building Temporal CLI ${TEMPORAL_CLI_VERSION} with go install into ${cacheDir} (one time, a few minutes)…`);
  await goInstall(go, [`${GO_PACKAGE}@${TEMPORAL_CLI_VERSION}`], cacheDir, { env, log, ErrorType: TemporalCliNotFoundError });
  if (!existsSync(cached)) throw new TemporalCliNotFoundError(`go install finished but ${cached} is missing`);
  log(`Temporal CLI ready: ${cached}`);
  return cached;
}

/** `go install <packages>` with GOBIN=`gobin`; the stderr tail goes to `log` and into the error when it fails. */
export function goInstall(
  go: string,
  packages: string[],
  gobin: string,
  options: { env: NodeJS.ProcessEnv; log: (m: string) => void; ErrorType: new (message: string) => Error },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(go, ['install', ...packages], {
      env: { ...options.env, GOBIN: gobin },
      // Outside any module, so a surrounding go.mod or go.work cannot interfere.
      cwd: tmpdir(),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let tail = '';
    child.stderr.on('data', (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-4000);
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) return resolve();
      options.log(tail);
      reject(new options.ErrorType(`go install ${packages.join(' ')} failed (exit ${code}):\n${tail}`));
    });
  });
}
