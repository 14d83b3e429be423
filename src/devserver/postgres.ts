/**
 * A throwaway PostgreSQL server of our own: a data directory in a temp folder, listening on 127.0.0.1
 * on a free port with its unix socket beside it, stopped and started with `pg_ctl` like a real one.
 * Uses Debian's build (`/usr/lib/postgresql/<major>/bin`, or `initdb` on PATH), installed with apt when
 * missing. initdb and pg_ctl refuse to run as root, so as root they run as the `postgres` user.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { findOnPath } from './cli-path.js';
import { freeFixedPort } from './fixed-port.js';

export interface PostgresOptions {
  /** Folder to put the server's own folder (`postgres/`) in. @default a new temp folder, removed by `stop()` */
  dir?: string;
  /** Progress messages (an apt install, the server's address). @default dropped */
  log?: (message: string) => void;
  env?: NodeJS.ProcessEnv;
}

export interface Postgres {
  readonly host: string;
  readonly port: number;
  /** A superuser, with a password (scram-sha-256 on TCP). */
  readonly user: string;
  readonly password: string;
  /** `postgres://user:password@host:port/postgres` */
  readonly url: string;
  readonly dataDir: string;
  /** The postmaster's pid, or undefined while stopped. */
  readonly pid: number | undefined;
  /** `pg_ctl stop -m fast`, then start again on the same port and data: committed state is kept. */
  restart(): Promise<void>;
  /** Stops the server (and removes the folder when it made it). Safe to call twice. */
  stop(): Promise<void>;
}

export class PostgresError extends Error {
  override readonly name = 'PostgresError';
}

const HOST = '127.0.0.1';
const USER = 'temporal';
/** Temporal opens a pool per service and store (4 services × 2 stores in one process): above the default 100. */
const MAX_CONNECTIONS = 200;
const START_TIMEOUT_S = 60;

const run = promisify(execFile);
const running = new Map<string, number>();

// A test run that crashes must not leave a server behind: pg_ctl daemonizes it, so it is not our child.
// SIGQUIT is PostgreSQL's immediate shutdown, and a signal is all an exit hook can still send.
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const pid of running.values()) {
      try {
        process.kill(pid, 'SIGQUIT');
      } catch {
        // already gone
      }
    }
  });
}

export async function startPostgres(options: PostgresOptions = {}): Promise<Postgres> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => undefined);
  const bin = await postgresBinDir(env, log);
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'postgres-'));
  const home = join(dir, 'postgres');
  const dataDir = join(home, 'data');
  const logFile = join(home, 'postgres.log');
  const password = randomBytes(12).toString('hex');
  const port = await freeFixedPort(HOST);
  let pid: number | undefined;

  const pgCtl = async (args: string[]) => {
    try {
      await asPostgres(join(bin, 'pg_ctl'), ['-D', dataDir, ...args], home);
    } catch (err) {
      throw new PostgresError(`pg_ctl ${args.at(-1)} of PostgreSQL on ${HOST}:${port} failed: ${oneLine(err)}${logTail(logFile)}`);
    }
  };
  const start = async () => {
    await pgCtl(['-l', logFile, '-w', '-t', String(START_TIMEOUT_S), 'start']);
    pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    running.set(dataDir, pid);
  };
  const stopServer = async () => {
    if (pid === undefined) return;
    await pgCtl(['-m', 'fast', '-w', '-t', String(START_TIMEOUT_S), 'stop']);
    running.delete(dataDir);
    pid = undefined;
  };

  try {
    mkdirSync(home, { mode: 0o700 });
    if (isRoot()) {
      // The postgres user has to reach its folder through ours (mkdtemp makes it 0700).
      chmodSync(dir, statSync(dir).mode | 0o001);
      await run('chown', ['postgres:', home]);
    }
    const pwFile = join(home, 'password');
    writeFileSync(pwFile, password, { mode: 0o644 });
    try {
      await asPostgres(
        join(bin, 'initdb'),
        ['-D', dataDir, '-U', USER, `--pwfile=${pwFile}`, '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync'],
        home,
      );
    } catch (err) {
      throw new PostgresError(`initdb of ${dataDir} failed: ${oneLine(err)}`);
    } finally {
      unlinkSync(pwFile);
    }
    // In postgresql.conf, so every start and restart listens where the first one did.
    appendFileSync(
      join(dataDir, 'postgresql.conf'),
      [
        '# temporal-hume (src/devserver/postgres.ts)',
        `listen_addresses = '${HOST}'`,
        `port = ${port}`,
        `unix_socket_directories = '${home}'`,
        `max_connections = ${MAX_CONNECTIONS}`,
        '',
      ].join('\n'),
    );
    installExitHook();
    await start();
  } catch (err) {
    if (ownsDir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  log(`PostgreSQL ready on ${HOST}:${port} (data in ${dataDir})`);

  return {
    host: HOST,
    port,
    user: USER,
    password,
    url: `postgres://${USER}:${password}@${HOST}:${port}/postgres`,
    dataDir,
    get pid() {
      return pid;
    },
    async restart() {
      await stopServer();
      await start();
      log(`PostgreSQL restarted on ${HOST}:${port}`);
    },
    async stop() {
      await stopServer();
      if (ownsDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function asPostgres(command: string, args: string[], cwd: string) {
  // cwd: the postgres user may not be allowed into ours.
  return isRoot() ? run('runuser', ['-u', 'postgres', '--', command, ...args], { cwd }) : run(command, args, { cwd });
}

/** The folder with initdb, pg_ctl and postgres; installs Debian's package when there is none. */
async function postgresBinDir(env: NodeJS.ProcessEnv, log: (m: string) => void): Promise<string> {
  const found = findPostgresBin(env);
  if (found) return found;
  const aptGet = findOnPath('apt-get', env);
  if (!aptGet) throw new PostgresError('PostgreSQL not found (no initdb on PATH or in /usr/lib/postgresql/*/bin) and no apt-get to install it');
  log('PostgreSQL not found: installing it with apt-get install -y postgresql…');
  const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    // A fresh machine may have no package lists yet.
    await run(aptGet, ['update'], { env: aptEnv });
    await run(aptGet, ['install', '-y', '--no-install-recommends', 'postgresql'], { env: aptEnv });
  } catch (err) {
    throw new PostgresError(`apt-get install postgresql failed: ${oneLine(err)}`);
  }
  const installed = findPostgresBin(env);
  if (!installed) throw new PostgresError('apt-get installed postgresql but no initdb is in /usr/lib/postgresql/*/bin');
  log(`PostgreSQL installed: ${installed}`);
  return installed;
}

function findPostgresBin(env: NodeJS.ProcessEnv): string | undefined {
  const onPath = findOnPath('initdb', env);
  if (onPath) return dirname(onPath);
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((name) => existsSync(join(root, name, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] === undefined ? undefined : join(root, majors[0], 'bin');
}

function oneLine(err: unknown): string {
  const { stderr, message } = err as { stderr?: string; message: string };
  return (stderr?.trim() || message).replace(/\s*\n\s*/g, ' | ');
}

function logTail(logFile: string): string {
  if (!existsSync(logFile)) return '';
  return `\n${readFileSync(logFile, 'utf8').slice(-2000)}`;
}
