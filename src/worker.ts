/**
 * The worker: our workflows and activities on one task queue, plus the webhook receiver when
 * callbacks are configured. The Hume API key lives here, in the activities' dependencies only.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type CallbackConfig } from './activities/index.js';
import { dataConverterFromEnv } from './codec/env.js';
import { loadHumeEnv, loadTemporalConnectConfig, webhookSecrets } from './config.js';
import { HumeClient, type HumeClientOptions } from './hume/client.js';
import { loggerOptions } from './logging.js';
import { startReceiver } from './webhook/receiver.js';

/** Path of the workflow entry point, next to this file (.ts from sources, .js when built). */
export function workflowsPath(): string {
  const here = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(`./workflows/index${extname(here)}`, import.meta.url));
}

export interface HumeWorkerOptions {
  connection: NativeConnection;
  /** @default 'default' */
  namespace?: string;
  taskQueue: string;
  /** The Hume client, or the options to build one (API key, base URL). */
  hume: HumeClient | HumeClientOptions;
  /** Where Hume calls back; without it every job is polled. */
  callbacks?: CallbackConfig;
  /** Encrypts payloads (see `dataConverterFromEnv`); clients of the same workflows need the same one. */
  dataConverter?: DataConverter;
  /** Anything else a Worker takes (a prebuilt `workflowBundle`, concurrency limits, …). */
  workerOptions?: Partial<WorkerOptions>;
}

export async function createHumeWorker(options: HumeWorkerOptions): Promise<Worker> {
  const hume = options.hume instanceof HumeClient ? options.hume : new HumeClient(options.hume);
  const { workerOptions = {} } = options;
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue,
    activities: createActivities({ hume, callbacks: options.callbacks }),
    dataConverter: options.dataConverter,
    ...(workerOptions.workflowBundle ? {} : { workflowsPath: workflowsPath() }),
    ...workerOptions,
  });
}

/**
 * Runs a worker (and the receiver, when HUME_CALLBACK_BASE_URL is set) from the environment until
 * SIGINT/SIGTERM, then shuts down gracefully: in-flight activities finish or are handed back.
 */
export async function runWorkerFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  log: (message: string) => void = (m) => void process.stderr.write(`${m}\n`),
) {
  const config = loadHumeEnv(env);
  if (!config.HUME_API_KEY) throw new Error('HUME_API_KEY is not set: the worker needs it to call Hume');
  const dataConverter = dataConverterFromEnv(env);
  const { connectionOptions, namespace } = loadTemporalConnectConfig(env);
  const connection = await NativeConnection.connect(connectionOptions);
  const secrets = webhookSecrets(config);
  const callbacks = config.HUME_CALLBACK_BASE_URL ? { baseUrl: config.HUME_CALLBACK_BASE_URL, secrets } : undefined;
  let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;
  let clientConnection: Connection | undefined;
  try {
    // The receiver first: a busy port fails fast, before a worker holds the connection.
    if (callbacks && config.HUME_WEBHOOK_RECEIVER === 'on') {
      clientConnection = await Connection.connect(connectionOptions);
      receiver = await startReceiver({
        client: new Client({ connection: clientConnection, namespace, dataConverter }),
        secrets,
        host: config.HUME_WEBHOOK_HOST,
        port: config.HUME_WEBHOOK_PORT,
        logger: { ...loggerOptions(env), stream: process.stderr },
      });
      log(`webhook receiver listening on ${receiver.url} (public: ${callbacks.baseUrl})`);
    } else {
      log(callbacks ? `callbacks go to ${callbacks.baseUrl} (received by a separate webhook service)` : 'no HUME_CALLBACK_BASE_URL: jobs are polled');
    }
    const worker = await createHumeWorker({
      connection,
      namespace,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      hume: { apiKey: config.HUME_API_KEY, baseUrl: config.HUME_BASE_URL, maxRequestsPerSecond: config.HUME_MAX_REQUESTS_PER_SECOND },
      callbacks,
      dataConverter,
    });
    log(`worker polling task queue ${config.TEMPORAL_TASK_QUEUE} on ${connectionOptions.address} (${namespace})${dataConverter ? ', payloads encrypted' : ''}`);
    await worker.run();
  } finally {
    await receiver?.close();
    await clientConnection?.close();
    await connection.close();
  }
}
