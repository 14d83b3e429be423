/**
 * A real S3 server for tests and demos: versitygw (Apache-2.0, one Go binary) serving a local
 * folder as buckets, on a free loopback port, with random root keys.
 * Binary order: VERSITYGW_PATH, `versitygw` on PATH, the project's cache, `go install` into the cache.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { cacheRoot, findOnPath, goInstall, isExecutable } from './cli-path.js';
import { freePort } from './server.js';
import { killOnExit } from './kill-on-exit.js';

export const VERSITYGW_VERSION = 'v1.8.0';
const GO_PACKAGE = 'github.com/versity/versitygw/cmd/versitygw';
const REGION = 'us-east-1';
const STOP_GRACE_MS = 5_000;
const START_TIMEOUT_MS = 30_000;

export class S3ServerNotFoundError extends Error {
  override readonly name = 'S3ServerNotFoundError';
}

export function defaultS3ServerCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), 'versitygw', VERSITYGW_VERSION);
}

/** Returns a path to a runnable versitygw, building it with `go install` when none is found. */
export async function resolveS3Server(
  options: { env?: NodeJS.ProcessEnv; build?: boolean; log?: (message: string) => void } = {},
): Promise<string> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const fromEnv = env.VERSITYGW_PATH;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new S3ServerNotFoundError(`VERSITYGW_PATH=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  const onPath = findOnPath('versitygw', env);
  if (onPath) return onPath;
  const cacheDir = defaultS3ServerCacheDir(env);
  const cached = join(cacheDir, 'versitygw');
  if (isExecutable(cached)) return cached;
  const go = findOnPath('go', env);
  if (options.build === false || !go) {
    throw new S3ServerNotFoundError(
      `versitygw not found: install Go and run \`npm run s3:install\` (go install ${GO_PACKAGE}@${VERSITYGW_VERSION}), or set VERSITYGW_PATH`,
    );
  }
  log(`Building versitygw ${VERSITYGW_VERSION} with go install into ${cacheDir} (one time, a few minutes)…`);
  await goInstall(go, [`${GO_PACKAGE}@${VERSITYGW_VERSION}`], cacheDir, { env, log, ErrorType: S3ServerNotFoundError });
  if (!existsSync(cached)) throw new S3ServerNotFoundError(`go install finished but ${cached} is missing`);
  log(`versitygw ready: ${cached}`);
  return cached;
}

export interface S3ServerOptions {
  /** Folder whose subfolders are the buckets. @default a temporary folder, removed on stop */
  dir?: string;
  /** Port on 127.0.0.1. @default a free port */
  port?: number;
}

export interface S3Server {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly dir: string;
  /** What a child process needs to reach this server through `createS3ClientFromEnv`. */
  env(): Record<string, string>;
  createBucket(name: string): Promise<void>;
  /** A client of this server (path-style, root keys). */
  client(): S3Client;
  /** Stops and starts the server on the same port and folder (objects stay). */
  restart(): Promise<void>;
  /** SIGTERM, then SIGKILL after a grace period; removes the folder it created. Safe to call twice. */
  stop(): Promise<void>;
}


export async function startS3Server(options: S3ServerOptions = {}): Promise<S3Server> {
  const binary = await resolveS3Server();
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'versitygw-')));
  await mkdir(dir, { recursive: true });
  const port = options.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  const accessKeyId = `AK${randomBytes(9).toString('hex').toUpperCase()}`;
  const secretAccessKey = randomBytes(24).toString('base64url');
  const newClient = (maxAttempts?: number) =>
    new S3Client({ endpoint, region: REGION, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey }, maxAttempts });
  // One attempt per request: the start polls, and the SDK's retries would only slow it.
  const client = newClient(1);

  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    // Keys by environment, not arguments: arguments are visible to every user in the process list.
    const proc = spawn(binary, ['--port', `127.0.0.1:${port}`, '--region', REGION, '--quiet', 'posix', dir], {
      env: { ...process.env, ROOT_ACCESS_KEY_ID: accessKeyId, ROOT_SECRET_ACCESS_KEY: secretAccessKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    killOnExit(proc);
    let recentLog = '';
    const keep = (chunk: Buffer) => void (recentLog = (recentLog + chunk.toString()).slice(-4000));
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    try {
      await waitUntilServing(client, () => proc.exitCode !== null || proc.signalCode !== null);
    } catch (err) {
      await halt();
      throw new Error(`versitygw on ${endpoint} did not start: ${(err as Error).message}\n${recentLog}`);
    }
  };
  const halt = async (): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, 'exit');
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  };

  await start();
  let stopped = false;
  return {
    endpoint,
    accessKeyId,
    secretAccessKey,
    dir,
    env: () => ({
      AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: secretAccessKey,
      AWS_REGION: REGION,
      AWS_ENDPOINT_URL_S3: endpoint,
      TEMPORAL_HUME_S3_FORCE_PATH_STYLE: 'true',
    }),
    async createBucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    client: () => newClient(),
    async restart() {
      await halt();
      await start();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await halt();
      client.destroy();
      if (ownDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Ready means an authenticated request is answered, not merely that the port is open. */
async function waitUntilServing(client: S3Client, hasExited: () => boolean): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (hasExited()) throw new Error('the server process exited');
    try {
      await client.send(new ListBucketsCommand({}));
      return;
    } catch (err) {
      lastError = err;
    }
    await sleep(100);
  }
  throw new Error(`no answer within ${START_TIMEOUT_MS} ms (${(lastError as Error | undefined)?.message ?? 'unknown'})`);
}
