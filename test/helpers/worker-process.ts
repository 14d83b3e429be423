/**
 * The worker as users run it, `temporal-hume worker` in its own process, configured only by the
 * environment; everything it prints is kept, across restarts, for tests that read the logs.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { freePort } from '../../src/devserver/index.js';
import { spawnCli, waitForLine } from './spawn.js';

export interface WorkerEnvOptions {
  temporalAddress: string;
  taskQueue: string;
  humeUrl: string;
  apiKey: string;
  webhookSecret: string;
  /** Extra variables (codec keys, …). */
  extra?: NodeJS.ProcessEnv;
}

/** HUME_* and TEMPORAL_* for a worker whose receiver listens on a free loopback port. */
export async function workerEnv(options: WorkerEnvOptions): Promise<NodeJS.ProcessEnv> {
  const webhookPort = await freePort();
  return {
    ...process.env,
    TEMPORAL_ADDRESS: options.temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: options.taskQueue,
    HUME_API_KEY: options.apiKey,
    HUME_BASE_URL: options.humeUrl,
    HUME_CALLBACK_BASE_URL: `http://127.0.0.1:${webhookPort}`,
    HUME_WEBHOOK_PORT: String(webhookPort),
    HUME_WEBHOOK_SECRET: options.webhookSecret,
    ...options.extra,
  };
}

export class WorkerProcesses {
  #log = '';
  #current: ChildProcessWithoutNullStreams | undefined;
  /** Processes started so far. */
  started = 0;
  /** Their process ids, in start order. */
  readonly pids: number[] = [];

  /** `cwd`: the workers' working directory. @default this process's */
  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly cwd?: string,
  ) {}

  /** Everything every worker process printed, stdout and stderr. */
  get log(): string {
    return this.#log;
  }

  /** Starts a worker and resolves once it polls its task queue. */
  async start(): Promise<void> {
    const child = spawnCli(['worker'], this.env, this.cwd);
    const keep = (chunk: Buffer) => (this.#log += chunk.toString());
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    this.#current = child;
    this.started++;
    if (child.pid !== undefined) this.pids.push(child.pid);
    await waitForLine(child, /worker polling task queue/, 180_000);
  }

  /** kill -9: no graceful shutdown, in-flight activities are lost mid-call. */
  async kill(): Promise<void> {
    await this.#stop('SIGKILL');
  }

  /** SIGTERM, for a clean end; resolves with the exit code. */
  async stop(): Promise<number | null> {
    return this.#stop('SIGTERM');
  }

  async #stop(signal: NodeJS.Signals): Promise<number | null> {
    const child = this.#current;
    this.#current = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = once(child, 'exit') as Promise<[number | null]>;
    child.kill(signal);
    return (await exited)[0];
  }
}
