/**
 * The bench's own Temporal side (no vitest): a local dev server, one workflow bundle, and our
 * worker + webhook receiver started per run against that run's Hume-compatible server.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { type ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import {
  bundleWorkflowCode,
  DefaultLogger,
  type LogEntry,
  NativeConnection,
  type WorkerOptions,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { startRun } from '../src/client.js';
import { type DevServer, startDevServer } from '../src/devserver/index.js';
import { FETCH_HANDED_OVER, type HumeBatchInput, type HumeBatchResult, SUBMIT_HANDED_OVER } from '../src/workflows/definitions.js';
import { installRuntime } from '../src/runtime.js';
import { startReceiver } from '../src/webhook/index.js';
import { createHumeWorker, sharedWorkflowModules, workflowsPath } from '../src/worker.js';
import type { BenchHume } from './hume-server.js';

const WEBHOOK_SECRET = 'bench-webhook-secret-4c1d9e07';
/**
 * The worker's request limit in the bench. The bench measures orchestration against a local
 * server, next to a script that has no limit: the default (10/s, meant for Hume) would measure
 * the limit instead. Set far above what a run sends; the peak it did send is a figure of its own.
 */
export const BENCH_MAX_REQUESTS_PER_SECOND = 1_000;
/** How often the server's request counter is read for the request-rate figures, ms. */
const RATE_SAMPLE_MS = 1_000;
const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

export interface BenchTemporal {
  server: DevServer;
  client: Client;
  close(): Promise<void>;
  /** Runs `input` through temporal-hume on `emulator`, with callbacks, and times it end to end. */
  run(emulator: BenchHume, input: HumeBatchInput): Promise<OurRun>;
}

export interface OurRun {
  /** From `startRun` until the summary is back (planning and finalizing included). */
  makespanMs: number;
  workflowId: string;
  result: HumeBatchResult;
  /** Requests the Hume-compatible server saw per second: over the makespan, and in its busiest second. */
  requestsPerSecond: { mean: number; peak: number };
  /** Submits and fetches inside a workflow task that handed their work to the scheduled activity. */
  handOvers: { submit: number; fetch: number };
}

/** Worker options a bench run sets on top of ours (`--worker-options`). */
export type BenchWorkerOptions = Partial<WorkerOptions>;

export async function startBenchTemporal(workerOptions: BenchWorkerOptions = {}): Promise<BenchTemporal> {
  // Worker logs go to stderr at WARN, the core's own with them: stdout carries the table only.
  installRuntime({ sdkLogger: new DefaultLogger('DEBUG', benchLog) }, 'bench');
  const server = await startDevServer({ headless: true });
  const [connection, clientConnection, bundle] = await Promise.all([
    NativeConnection.connect({ address: server.address }),
    Connection.connect({ address: server.address }),
    bundleWorkflowCode({ workflowsPath: workflowsPath(), preloadModules: sharedWorkflowModules(), logger: silent }),
  ]);
  const client = new Client({ connection: clientConnection });
  return {
    server,
    client,
    run: (emulator, input) => runOnFreshWorker({ connection, client, bundle, workerOptions }, emulator, input),
    async close() {
      await clientConnection.close();
      await connection.close();
      await server.stop();
    },
  };
}

interface WorkerDeps {
  connection: NativeConnection;
  client: Client;
  bundle: WorkflowBundleWithSourceMap;
  workerOptions: BenchWorkerOptions;
}

const handOvers = { submit: 0, fetch: 0 };

/** Prints warnings and errors, with the activity and its error; counts the benign hand-overs (debug). */
function benchLog({ level, message, meta }: LogEntry): void {
  const error = meta?.error as ApplicationFailure | undefined;
  if (level === 'WARN' || level === 'ERROR') {
    const activity = typeof meta?.activityType === 'string' ? ` (${meta.activityType})` : '';
    process.stderr.write(`[worker ${level}] ${message}${activity}${error?.message ? `: ${error.message}` : ''}\n`);
  } else if (message === 'Activity failed' && error?.category === ApplicationFailureCategory.BENIGN) {
    if (error.type === SUBMIT_HANDED_OVER) handOvers.submit++;
    else if (error.type === FETCH_HANDED_OVER) handOvers.fetch++;
  }
}

/** A worker is bound to one Hume base URL, so each run gets its own (on its own task queue). */
async function runOnFreshWorker({ connection, client, bundle, workerOptions }: WorkerDeps, emulator: BenchHume, input: HumeBatchInput): Promise<OurRun> {
  const receiver = await startReceiver({ client, secrets: [WEBHOOK_SECRET] });
  const taskQueue = `bench-${randomUUID()}`;
  try {
    const worker = await createHumeWorker({
      connection,
      taskQueue,
      hume: { apiKey: emulator.apiKey, baseUrl: emulator.url, maxRequestsPerSecond: BENCH_MAX_REQUESTS_PER_SECOND },
      callbacks: { baseUrl: receiver.url, secrets: [WEBHOOK_SECRET] },
      workerOptions: { ...workerOptions, workflowBundle: bundle },
    });
    return await worker.runUntil(async () => {
      const rate = await sampleRequestRate(emulator);
      const handedBefore = { ...handOvers };
      const started = performance.now();
      try {
        const handle = await startRun(client, input, { taskQueue });
        const result = await handle.result();
        const makespanMs = performance.now() - started;
        const handed = { submit: handOvers.submit - handedBefore.submit, fetch: handOvers.fetch - handedBefore.fetch };
        return { makespanMs, workflowId: handle.workflow.workflowId, result, requestsPerSecond: await rate.figures(makespanMs), handOvers: handed };
      } finally {
        rate.stop();
      }
    });
  } finally {
    await receiver.close();
  }
}

/** `mean / busiest second (limit N)`, requests per second. */
export const requestRate = ({ requestsPerSecond: { mean, peak } }: OurRun): string =>
  `${mean.toFixed(1)} / ${peak.toFixed(0)} (limit ${BENCH_MAX_REQUESTS_PER_SECOND})`;

/** Reads the server's request count every second: the busiest second, and the mean over a run. */
async function sampleRequestRate(emulator: BenchHume) {
  const first = await emulator.requests();
  let last = { count: first, at: performance.now() };
  let peak = 0;
  let reading = false;
  // A reading over HTTP may come late: the rate is over the time it really covers, and a tick
  // is skipped while the last reading is still on its way.
  const timer = setInterval(() => {
    if (reading) return;
    reading = true;
    void emulator.requests().then((count) => {
      const at = performance.now();
      peak = Math.max(peak, ((count - last.count) * 1000) / Math.max(at - last.at, RATE_SAMPLE_MS));
      last = { count, at };
    }, () => undefined).finally(() => (reading = false));
  }, RATE_SAMPLE_MS);
  return {
    async figures(makespanMs: number) {
      const total = await emulator.requests();
      return { mean: ((total - first) * 1000) / makespanMs, peak: Math.max(peak, total - last.count) };
    },
    stop: () => clearInterval(timer),
  };
}
