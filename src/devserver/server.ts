/** Starts and stops a local `temporal server start-dev` on free ports. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { resolveTemporalCli } from './cli-path.js';
import { killOnExit } from './kill-on-exit.js';

export interface DevServerOptions {
  /** Temporal CLI binary. @default resolved by `resolveTemporalCli()` */
  cliPath?: string;
  /** Interface to bind. @default '127.0.0.1' */
  ip?: string;
  /** Frontend gRPC port. @default a free port */
  port?: number;
  /** Web UI port. @default a free port */
  uiPort?: number;
  /** Run without the Web UI. @default false */
  headless?: boolean;
  /** SQLite file for persistence across restarts. @default in memory */
  dbFile?: string;
  /** Namespace to create besides `default`. */
  namespace?: string;
  /** `--dynamic-config-value KEY=VALUE`, values JSON-encoded. */
  dynamicConfig?: Record<string, unknown>;
  /** `--search-attribute NAME=TYPE` to register. */
  searchAttributes?: Record<string, 'Text' | 'Keyword' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList'>;
  /** How long to wait for the server to answer. @default 60_000 ms */
  startTimeoutMs?: number;
  /** Where the server's own log lines go. @default dropped (the last lines are kept for errors) */
  onLog?: (line: string) => void;
}

export interface DevServer {
  /** `host:port` of the frontend, for `Connection.connect({ address })`. */
  readonly address: string;
  readonly uiUrl: string | undefined;
  readonly namespace: string;
  readonly pid: number;
  /** Stops the server: SIGTERM, then SIGKILL after a grace period. Safe to call twice. */
  stop(): Promise<void>;
}

/** Asks the kernel for a free port on `host`. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  server.listen(0, host);
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('could not allocate a free port');
  return address.port;
}

const STOP_GRACE_MS = 5_000;
/** How long the output of a server that exited is read on (a process it left may hold the pipe). */
const OUTPUT_DRAIN_MS = 2_000;

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const cliPath = options.cliPath ?? (await resolveTemporalCli());
  const ip = options.ip ?? '127.0.0.1';
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort(ip));
    const uiPort = options.headless ? undefined : (options.uiPort ?? (await freePort(ip)));
    try {
      return await launch(cliPath, ip, port, uiPort, options);
    } catch (err) {
      // A port that was free a moment ago can be taken by the time the server binds it (its
      // other ports, HTTP and metrics, it picks the same way): ours were chosen, so choose again.
      const portsOurs = options.port === undefined && (options.headless || options.uiPort === undefined);
      if (!(err instanceof PortTaken) || !portsOurs || attempt === PORT_ATTEMPTS) throw err;
    }
  }
}

/** How many times a server whose free port was taken meanwhile is started on new ones. */
const PORT_ATTEMPTS = 3;
/** What is kept of the server's output for an error: its start (a Go panic's first line) and its end. */
const LOG_HEAD = 2_000;
const LOG_TAIL = 2_000;

class PortTaken extends Error {}

async function launch(cliPath: string, ip: string, port: number, uiPort: number | undefined, options: DevServerOptions): Promise<DevServer> {
  const namespace = options.namespace ?? 'default';
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(port), '--log-level', 'warn'];
  if (uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(uiPort));
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  if (namespace !== 'default') args.push('--namespace', namespace);
  for (const [key, value] of Object.entries(options.dynamicConfig ?? {})) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  for (const [name, type] of Object.entries(options.searchAttributes ?? {})) {
    args.push('--search-attribute', `${name}=${type}`);
  }

  const child = spawn(cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  // A binary that cannot be run (missing, not executable) ends the wait at once, named.
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError ??= err));
  const exited = once(child, 'exit').catch(() => undefined);
  // Its output is read to the end only at 'close' ('exit' can come first).
  const closed = once(child, 'close').catch(() => undefined);
  let head = '';
  let tail = '';
  let cut = false;
  const onData = (text: string) => {
    const room = LOG_HEAD - head.length;
    head += text.slice(0, room);
    // What of a chunk is past the head goes to the tail: nothing is skipped between the two.
    if (text.length > room) {
      const kept = tail + text.slice(room);
      cut ||= kept.length > LOG_TAIL;
      tail = kept.slice(-LOG_TAIL);
    }
    if (options.onLog) for (const line of text.split('\n')) if (line) options.onLog(line);
  };
  // Decoded as a stream, so a character split across two chunks stays whole.
  child.stdout.setEncoding('utf8').on('data', onData);
  child.stderr.setEncoding('utf8').on('data', onData);

  const address = `${ip}:${port}`;
  const stop = async () => {
    if (spawnError || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  };

  try {
    const ended = () => (spawnError ? `cannot run ${cliPath} (${spawnError.message})` : child.exitCode !== null ? 'the server process exited' : undefined);
    await waitUntilServing(address, namespace, options.startTimeoutMs ?? 60_000, ended);
  } catch (err) {
    await stop();
    await Promise.race([closed, sleep(OUTPUT_DRAIN_MS)]);
    const log = cut ? `${head}\n…\n${tail}` : head + tail;
    const message = `Temporal dev server on ${address} did not start: ${(err as Error).message}\n${log}`;
    throw child.exitCode !== null && /address already in use/i.test(log) ? new PortTaken(message) : new Error(message);
  }
  return {
    address,
    uiUrl: uiPort === undefined ? undefined : `http://${ip}:${uiPort}`,
    namespace,
    pid: child.pid ?? -1,
    stop,
  };
}

/** Ready means the frontend answers and the namespace exists, not merely that the port is open. */
async function waitUntilServing(address: string, namespace: string, timeoutMs: number, ended: () => string | undefined) {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const why = ended();
    if (why) throw new Error(why);
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address, connectTimeout: 1_000 });
      await connection.workflowService.describeNamespace({ namespace });
      return;
    } catch (err) {
      lastError = err;
    } finally {
      await connection?.close();
    }
    await sleep(250);
  }
  throw new Error(`no answer within ${timeoutMs} ms (${(lastError as Error | undefined)?.message ?? 'unknown'})`);
}
