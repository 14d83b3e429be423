/**
 * The whole product on loopback for a test: the Hume-compatible server, the webhook receiver and a
 * worker (our activities + the test workflow bundle) on the shared Temporal dev server.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { type HumeEmulator, type HumeEmulatorOptions, startHumeEmulator } from '../../src/emulator/index.js';
import { type RunningReceiver, startReceiver } from '../../src/webhook/index.js';
import { createActivities } from '../../src/activities/index.js';
import { HumeClient } from '../../src/hume/client.js';
import type { Storage } from '../../src/store/storage.js';
import { createHumeWorker } from '../../src/worker.js';
import { connectTemporal, type TemporalTestContext, testWorkflowBundle } from './temporal.js';

export const WEBHOOK_SECRET = 'test-webhook-secret-do-not-leak-5f1c';
export const API_KEY = 'test-hume-api-key-do-not-leak-9b2e';

export interface StackOptions {
  emulator?: HumeEmulatorOptions;
  /** Run the webhook receiver and ask Hume to call back. @default true */
  callbacks?: boolean;
  /** The key the worker sends; the emulator always expects API_KEY. */
  workerApiKey?: string;
  /** A Temporal server of the test's own. @default the shared dev server */
  temporalAddress?: string;
  /** The worker's Hume request limit. @default 200 (the production default is lower) */
  maxRequestsPerSecond?: number;
  /** Replaces some of the worker's activities (to inject a failure into one step). */
  wrapActivities?: (activities: WorkerActivities) => WorkerActivities;
  /** Where the worker reads manifests and writes results. @default local paths and S3 from the environment */
  storage?: Storage;
  /** Puts something (a proxy) between the worker and the Hume-compatible server. */
  through?: (humeUrl: string) => Promise<{ url: string; close(): Promise<void> }>;
  /** Workflow interceptor modules bundled with the workflows (a test's way to slow a command down). */
  workflowInterceptorModules?: string[];
}

export interface Stack {
  temporal: TemporalTestContext;
  emulator: HumeEmulator;
  receiver?: RunningReceiver;
  worker: Worker;
  /** A fresh results folder. */
  resultDir(): string;
  /** Stops the worker and starts another on the same task queue (a fixed key, say). */
  restartWorker(options?: { apiKey?: string; wrapActivities?: (activities: WorkerActivities) => WorkerActivities }): Promise<void>;
  close(): Promise<void>;
}

export type WorkerActivities = Record<string, (...args: never[]) => Promise<unknown>>;


export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const temporal = await connectTemporal(options.temporalAddress);
  const emulator = await startHumeEmulator({
    apiKey: API_KEY,
    timing: { queuedMs: [20, 50], processingMs: [50, 150] },
    ...options.emulator,
  });
  const proxy = await options.through?.(emulator.url);
  const receiver =
    options.callbacks === false ? undefined : await startReceiver({ client: temporal.client, secrets: [WEBHOOK_SECRET] });
  const startWorker = async (apiKey: string, wrap?: (activities: WorkerActivities) => WorkerActivities) => {
    // Loopback tests run many jobs at once: the process-wide limiter's production default would time them, not the code.
    const hume = new HumeClient({ apiKey, baseUrl: proxy?.url ?? emulator.url, maxRequestsPerSecond: options.maxRequestsPerSecond ?? 200 });
    const callbacks = receiver && { baseUrl: receiver.url, secrets: [WEBHOOK_SECRET] };
    const created = await createHumeWorker({
      connection: temporal.nativeConnection,
      taskQueue: temporal.taskQueue,
      hume,
      callbacks,
      storage: options.storage,
      workerOptions: {
        workflowBundle: await testWorkflowBundle(options.workflowInterceptorModules),
        ...(wrap ? { activities: wrap(createActivities({ hume, callbacks, storage: options.storage }) as unknown as WorkerActivities) } : {}),
      },
    });
    return { worker: created, running: created.run() };
  };
  let { worker, running } = await startWorker(options.workerApiKey ?? API_KEY, options.wrapActivities);
  const root = mkdtempSync(join(tmpdir(), 'hume-results-'));
  let folders = 0;
  const stack: Stack = {
    temporal,
    emulator,
    receiver,
    worker,
    resultDir: () => join(root, `job-${++folders}`),
    async restartWorker(restart = {}) {
      worker.shutdown();
      await running;
      ({ worker, running } = await startWorker(restart.apiKey ?? API_KEY, restart.wrapActivities));
      stack.worker = worker;
    },
    async close() {
      worker.shutdown();
      await running;
      await receiver?.close();
      await proxy?.close();
      await emulator.close();
      await temporal.close();
    },
  };
  return stack;
}
