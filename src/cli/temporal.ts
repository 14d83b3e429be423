/**
 * The Temporal side of the CLI: connection flags over the TEMPORAL_* environment, a connection
 * that fails fast with a line naming the address, and finding a run by id.
 */
import { createRequire } from 'node:module';
import { Client, Connection, type ConnectionOptions, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import { Command } from 'commander';
import { getRun, type RunHandle } from '../client.js';
import { dataConverterFromEnv } from '../codec/env.js';
import { loadTemporalConnectConfig, TemporalUnreachableError } from '../config.js';
import { CliError, EXIT } from './errors.js';

/** Long enough for a TLS handshake to a cloud namespace, short enough that a typo fails fast. */
const CONNECT_TIMEOUT = '3s';

export interface TemporalFlags {
  address?: string;
  namespace?: string;
}

export function addTemporalOptions(cmd: Command): Command {
  return cmd
    .option('--address <host:port>', 'Temporal frontend address (default: TEMPORAL_ADDRESS, a profile, or localhost:7233)')
    .option('--namespace <name>', 'Temporal namespace (default: TEMPORAL_NAMESPACE, a profile, or default)');
}

export interface TemporalSession {
  client: Client;
  address: string;
  namespace: string;
  close(): Promise<void>;
}

export async function connectTemporal(flags: TemporalFlags, env: NodeJS.ProcessEnv = process.env): Promise<TemporalSession> {
  const config = loadTemporalConnectConfig(env);
  const address = flags.address ?? config.connectionOptions.address;
  const namespace = flags.namespace ?? config.namespace;
  // The workers' payload encryption, when configured: without it inputs, results and progress are unreadable.
  const dataConverter = dataConverterFromEnv(env);
  let connection: Connection;
  let closed = false;
  // The SDK's retries, then the guard: a retry due after close must not reach the closed channel.
  const interceptors = [makeGrpcRetryInterceptor(defaultGrpcRetryOptions()), closedGuard(() => closed)];
  try {
    connection = await Connection.connect({ ...config.connectionOptions, address, connectTimeout: CONNECT_TIMEOUT, interceptors });
  } catch (err) {
    throw new CliError(new TemporalUnreachableError(address, err).message, EXIT.failed, { cause: err });
  }
  const close = async () => {
    closed = true;
    await connection.close();
  };
  return { client: new Client({ connection, namespace, dataConverter }), address, namespace, close };
}

type Interceptor = NonNullable<ConnectionOptions['interceptors']>[number];
type GrpcCall = ConstructorParameters<(typeof grpc)['InterceptingCall']>[0];

/** grpc-js as the Temporal client loads it (it is the client's dependency, not ours). */
const grpc = createRequire(createRequire(import.meta.url).resolve('@temporalio/client'))('@grpc/grpc-js') as typeof import('@grpc/grpc-js');

/**
 * Calls made once the session is closed go nowhere: they never reach the channel and never answer
 * (the session closes as the command ends, and nothing is left to wait for them). Without it, a
 * call the SDK retries on a timer (a progress query no worker answers, when Ctrl-C closes the
 * session) throws `Channel has been shut down` from that timer: an uncaught exception, a stack
 * trace and exit 1 instead of the interrupted line and 130. (Ending them with a status instead
 * trips the SDK's retry interceptor, which expects a message before a final status.)
 */
function closedGuard(isClosed: () => boolean): Interceptor {
  const nowhere: GrpcCall = {
    start: () => undefined,
    cancelWithStatus: () => undefined,
    getPeer: () => '',
    sendMessageWithContext: () => undefined,
    sendMessage: () => undefined,
    startRead: () => undefined,
    halfClose: () => undefined,
    getAuthContext: () => null,
  };
  return (options, nextCall) => new grpc.InterceptingCall(isClosed() ? nowhere : nextCall(options));
}

export interface FoundRun {
  run: RunHandle;
  workflowId: string;
  /** Temporal's view: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT… */
  status: string;
  taskQueue: string;
}

/** The run's latest execution; an unknown id throws WorkflowNotFoundError (a usage error). */
export async function findRun(session: TemporalSession, runId: string): Promise<FoundRun> {
  const run = getRun(session.client, runId);
  const description = await run.workflow.describe();
  return { run, workflowId: run.workflow.workflowId, status: description.status.name, taskQueue: description.taskQueue };
}

/** Connects, finds the run, hands it to `fn`, and closes the connection whatever happens. */
export async function withRun<T>(
  runId: string,
  flags: TemporalFlags,
  fn: (found: FoundRun, session: TemporalSession) => Promise<T>,
): Promise<T> {
  const session = await connectTemporal(flags);
  try {
    return await fn(await findRun(session, runId), session);
  } finally {
    await session.close();
  }
}

export interface RunIdFlags extends TemporalFlags {
  json?: boolean;
}

/** `<run-id>` plus the connection flags and `--json`, as every command on an existing run takes them. */
export function runIdCommand(name: string, description: string): Command {
  return addTemporalOptions(
    new Command(name)
      .description(description)
      .argument('<run-id>', 'the run id (or its workflow id, hume-run-<run-id>)')
      .option('--json', 'print JSON on stdout'),
  );
}
