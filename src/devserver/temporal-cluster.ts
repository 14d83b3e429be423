/**
 * The full Temporal server (not the dev server) on PostgreSQL, shaped like a production install: both
 * schemas set up with Temporal's own `sql` tool, a generated config, all four services in one process on
 * free loopback ports, the namespace and search attributes registered through the API. Either half can
 * be restarted while the other keeps running, on the same ports and database.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Connection, isGrpcServiceError } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import { type Postgres, startPostgres } from './postgres.js';
import { freeFixedPort } from './fixed-port.js';
import type { DevServerOptions } from './server.js';
import { resolveTemporalServer, type TemporalServerBinaries } from './temporal-server-path.js';
import { killOnExit } from './kill-on-exit.js';

export type SearchAttributeType = NonNullable<DevServerOptions['searchAttributes']>[string];

// The default import: the package is CommonJS, and Node's ESM loader sees no named exports in it.
const { IndexedValueType } = proto.temporal.api.enums.v1;
export const INDEXED_VALUE_TYPES: Record<SearchAttributeType, proto.temporal.api.enums.v1.IndexedValueType> = {
  Text: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Int: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  Double: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  Bool: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  Datetime: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  KeywordList: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

export interface TemporalClusterOptions {
  /** Folder for PostgreSQL's data, the config and the server's log. @default a new temp folder, removed by `stop()` */
  dir?: string;
  /** Namespace to register. @default 'default' */
  namespace?: string;
  /** How long closed workflows are kept. @default '1 day' */
  retention?: string;
  /** Search attributes to register on the namespace. */
  searchAttributes?: Record<string, SearchAttributeType>;
  /** Dynamic config, key → value for every constraint (e.g. `limit.historyCount.suggestContinueAsNew`). */
  dynamicConfig?: Record<string, unknown>;
  /** How long a start or restart may take to answer. @default 120_000 ms */
  startTimeoutMs?: number;
  /** Binaries and schemas. @default `resolveTemporalServer()` (builds them once) */
  binaries?: TemporalServerBinaries;
  /** Progress messages. @default dropped (a build still reports on stderr) */
  log?: (message: string) => void;
}

export interface TemporalCluster {
  /** `host:port` of the frontend, for `Connection.connect({ address })`. */
  readonly address: string;
  readonly namespace: string;
  readonly postgres: Postgres;
  /** Everything the server printed, across restarts. */
  readonly logFile: string;
  /** The server process's pid, or undefined while it is stopped. */
  readonly pid: number | undefined;
  /** SIGTERM (SIGKILL after a grace), then the same server on the same ports and database; resolves when it serves. */
  restartTemporal(): Promise<void>;
  /** Restarts PostgreSQL under the running server; resolves when the server answers from the database again. */
  restartPostgres(): Promise<void>;
  /** Stops the server and PostgreSQL (and removes the folder when it made it). Safe to call twice. */
  stop(): Promise<void>;
}

export class TemporalClusterError extends Error {
  override readonly name = 'TemporalClusterError';
}

const HOST = '127.0.0.1';
const STOP_GRACE_MS = 10_000;
const LOG_TAIL_LINES = 15;
const GRPC_ALREADY_EXISTS = 6;
const SCHEMAS = [
  { database: 'temporal', folder: 'temporal' },
  { database: 'temporal_visibility', folder: 'visibility' },
] as const;
const SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;

const run = promisify(execFile);


export async function startTemporalCluster(options: TemporalClusterOptions = {}): Promise<TemporalCluster> {
  const log = options.log ?? (() => undefined);
  const binaries = options.binaries ?? (await resolveTemporalServer({ log: options.log }));
  const namespace = options.namespace ?? 'default';
  const timeoutMs = options.startTimeoutMs ?? 120_000;
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'temporal-cluster-'));
  const configDir = join(dir, 'temporal');
  mkdirSync(configDir, { recursive: true });
  const logFile = join(configDir, 'server.log');

  let postgres: Postgres | undefined;
  let server: ServerProcess | undefined;
  const stop = async () => {
    await server?.stop();
    await postgres?.stop();
    if (ownsDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    postgres = await startPostgres({ dir, log });
    for (const schema of SCHEMAS) await setUpSchema(binaries, postgres, schema.database, join(binaries.postgresSchemaDir, schema.folder, 'versioned'));
    log('Temporal schemas set up in PostgreSQL');
    const configFile = await writeConfig(configDir, postgres, options.dynamicConfig ?? {});
    const address = configFile.address;
    const watch = (): Watch => ({ address, server: server!, logFile, timeoutMs });
    const start = async () => {
      server = startServer(binaries.server, configFile.path, logFile, dir);
      await waitUntil(watch(), 'the Temporal server', (connection) => connection.workflowService.getSystemInfo({}));
    };
    await start();
    await register(watch(), namespace, options);
    log(`Temporal server ready on ${address} (namespace ${namespace}, log ${logFile})`);

    const pg = postgres;
    return {
      address,
      namespace,
      postgres: pg,
      logFile,
      get pid() {
        return server?.pid;
      },
      async restartTemporal() {
        await server?.stop();
        await start();
        await waitUntil(watch(), `namespace ${namespace}`, (connection) => connection.workflowService.describeNamespace({ namespace }));
        log(`Temporal server restarted on ${address}`);
      },
      async restartPostgres() {
        await pg.restart();
        // Answered from the database, so it proves the server's pools reconnected.
        await waitUntil(watch(), `namespace ${namespace} after the PostgreSQL restart`, (connection) =>
          connection.workflowService.describeNamespace({ namespace }),
        );
        log(`Temporal server on ${address} answers from PostgreSQL again`);
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** `create-database`, `setup-schema -v 0.0`, `update-schema -d <versioned>`: what an operator runs. */
async function setUpSchema(binaries: TemporalServerBinaries, postgres: Postgres, database: string, versionedDir: string): Promise<void> {
  const connect = ['--plugin', 'postgres12', '--ep', postgres.host, '-p', String(postgres.port), '-u', postgres.user, '--db', database];
  // The password in the environment, not on a command line anyone can read.
  const env = { ...process.env, SQL_PASSWORD: postgres.password };
  for (const command of [['create-database'], ['setup-schema', '-v', '0.0'], ['update-schema', '-d', versionedDir]]) {
    try {
      await run(binaries.sqlTool, [...connect, ...command], { env });
    } catch (err) {
      const { stderr, stdout, message } = err as { stderr?: string; stdout?: string; message: string };
      throw new TemporalClusterError(`sql ${command[0]} of database ${database} failed: ${(stderr || stdout || message).trim().slice(-2000)}`);
    }
  }
}

/** The server's config, as JSON (which is YAML): ports are taken now and kept for every restart. */
async function writeConfig(configDir: string, postgres: Postgres, dynamicConfig: Record<string, unknown>) {
  const store = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `${postgres.host}:${postgres.port}`,
      connectProtocol: 'tcp',
      user: postgres.user,
      password: postgres.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const services: Record<string, { rpc: { grpcPort: number; membershipPort: number; bindOnLocalHost: true } }> = {};
  for (const service of SERVICES) {
    services[service] = { rpc: { grpcPort: await freeFixedPort(HOST), membershipPort: await freeFixedPort(HOST), bindOnLocalHost: true } };
  }
  const address = `${HOST}:${services.frontend!.rpc.grpcPort}`;
  const dynamicConfigFile = join(configDir, 'dynamicconfig.yaml');
  writeFileSync(
    dynamicConfigFile,
    JSON.stringify(Object.fromEntries(Object.entries(dynamicConfig).map(([key, value]) => [key, [{ value, constraints: {} }]])), null, 2),
  );
  const config = {
    log: { stdout: true, level: 'info' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: 4,
      datastores: { 'postgres-default': store('temporal', 20), 'postgres-visibility': store('temporal_visibility', 10) },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: HOST } },
    services,
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: { active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: address } },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
    namespaceDefaults: { archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } } },
    dynamicConfigClient: { filepath: dynamicConfigFile, pollInterval: '10s' },
  };
  const path = join(configDir, 'config.yaml');
  writeFileSync(path, JSON.stringify(config, null, 2));
  return { path, address };
}

interface ServerProcess {
  readonly pid: number | undefined;
  hasExited(): boolean;
  stop(): Promise<void>;
}

function startServer(serverBinary: string, configFile: string, logFile: string, cwd: string): ServerProcess {
  const out = openSync(logFile, 'a');
  const child = spawn(serverBinary, ['--config-file', configFile, '--allow-no-auth', 'start'], { cwd, stdio: ['ignore', out, out] });
  closeSync(out);
  killOnExit(child);
  const exited = once(child, 'exit');
  const hasExited = () => child.exitCode !== null || child.signalCode !== null;
  return {
    get pid() {
      return hasExited() ? undefined : child.pid;
    },
    hasExited,
    async stop() {
      if (hasExited()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Namespace first, then its search attributes; each may be there already (a cluster started on old data). */
async function register(watch: Watch, namespace: string, options: TemporalClusterOptions): Promise<void> {
  const tolerateExisting = (err: unknown) => {
    if (!(isGrpcServiceError(err) && err.code === GRPC_ALREADY_EXISTS)) throw err;
  };
  // A fresh cluster answers before it can write: retried until its system namespace and shards are up.
  await waitUntil(watch, `registration of namespace ${namespace}`, (connection) =>
    connection.workflowService
      .registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(options.retention ?? '1 day') })
      .catch(tolerateExisting),
  );
  const searchAttributes = Object.entries(options.searchAttributes ?? {});
  if (searchAttributes.length > 0) {
    await waitUntil(watch, `search attributes of namespace ${namespace}`, (connection) =>
      connection.operatorService
        .addSearchAttributes({
          namespace,
          searchAttributes: Object.fromEntries(searchAttributes.map(([name, type]) => [name, INDEXED_VALUE_TYPES[type]])),
        })
        .catch(tolerateExisting),
    );
  }
}

/** What a wait watches: the server answering on `address`, or its process exiting; the log explains either. */
interface Watch {
  address: string;
  server: ServerProcess;
  logFile: string;
  timeoutMs: number;
}

/** Retries `call` on a fresh connection until it succeeds; fails early, quoting the log, if the server exits. */
async function waitUntil({ address, server, logFile, timeoutMs }: Watch, what: string, call: (connection: Connection) => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (server.hasExited()) throw new TemporalClusterError(`${what} on ${address}: the server process exited\n${logTail(logFile)}`);
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address, connectTimeout: 1_000 });
      await connection.withDeadline(Date.now() + 5_000, () => call(connection!));
      return;
    } catch (err) {
      lastError = err;
    } finally {
      await connection?.close();
    }
    await sleep(500);
  }
  throw new TemporalClusterError(
    `${what} on ${address}: no success within ${timeoutMs} ms (${(lastError as Error | undefined)?.message ?? 'unknown'})\n${logTail(logFile)}`,
  );
}

/** The log's last lines without their Go stack traces, which would fill any tail on their own. */
function logTail(logFile: string): string {
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return '';
  }
  return text
    .split('\n')
    .filter(Boolean)
    .slice(-LOG_TAIL_LINES)
    .map((line) => line.replace(/,"stacktrace":"(?:[^"\\]|\\.)*"/, '').slice(0, 600))
    .join('\n');
}
