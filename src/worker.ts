/**
 * The worker: our workflows and activities on one task queue, plus the webhook receiver when
 * callbacks are configured. The Hume API key lives here, in the activities' dependencies only.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { type Logger, NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type CallbackConfig } from './activities/index.js';
import { dataConverterFromEnv } from './codec/env.js';
import { callbackBaseUrl, ConfigError, loadHumeEnv, loadTemporalConnectConfig, TemporalUnreachableError, webhookSecrets } from './config.js';
import { HumeClient, type HumeClientOptions } from './hume/client.js';
import { probeHume } from './hume/probe.js';
import { loggerOptions } from './logging.js';
import { callbackMetrics, humeRequestMetrics } from './metrics.js';
import { installRuntime } from './runtime.js';
import { unwritableFailure } from './store/fs.js';
import { isS3Location } from './store/location.js';
import { StorageConfigError } from './store/s3-client.js';
import { createStorage, type Storage } from './store/storage.js';
import { startReceiver } from './webhook/receiver.js';

/** Path of the workflow entry point, next to this file (.ts from sources, .js when built). */
export function workflowsPath(): string {
  const here = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(`./workflows/index${extname(here)}`, import.meta.url));
}

/**
 * Modules of our workflow bundle that every execution on a worker shares (the SDK's
 * `preloadModules`): zod, loaded once per workflow thread and frozen, instead of once per
 * execution (about 6 ms of the workflow thread's CPU each, BENCHMARKS.md). Frozen means zod's
 * global config too: workflow code on such a worker cannot call `z.config()`.
 */
export function sharedWorkflowModules(): string[] {
  const ext = extname(fileURLToPath(import.meta.url));
  return [fileURLToPath(new URL(`./workflows/shared-libraries${ext}`, import.meta.url))];
}

/**
 * The modules to preload into a bundle of `bundledPath`: ours first when it is our workflows
 * file, then `given`. A user's own file is left as it is: a shared zod is frozen, which its
 * workflows may not expect (it opts in by passing `sharedWorkflowModules()`).
 */
export function preloadModulesFor(bundledPath: string | undefined, given: string[] = []): string[] {
  return bundledPath === workflowsPath() ? [...sharedWorkflowModules(), ...given] : given;
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
  /** Where manifests and results are read and written (local paths and `s3://`). @default from the environment (the AWS SDK's chain) */
  storage?: Storage;
  /** Encrypts payloads (see `dataConverterFromEnv`); clients of the same workflows need the same one. */
  dataConverter?: DataConverter;
  /**
   * Worker Versioning: this worker is `buildId` of the worker deployment `name`. Our workflows
   * are pinned to the version that started them; a run moves to the current version at its next
   * continue-as-new (see CONTRIBUTING, "Rolling out a workflow change"). Unset: unversioned.
   */
  deployment?: WorkerDeployment;
  /** Anything else a Worker takes (a prebuilt `workflowBundle`, concurrency limits, …). */
  workerOptions?: Partial<WorkerOptions>;
}

export interface WorkerDeployment {
  name: string;
  buildId: string;
}

/** The Worker options that make a worker one version of a worker deployment. */
export function deploymentOptions(deployment: WorkerDeployment): Pick<WorkerOptions, 'workerDeploymentOptions'> {
  return {
    workerDeploymentOptions: {
      version: { deploymentName: deployment.name, buildId: deployment.buildId },
      useWorkerVersioning: true,
      // Our workflows declare theirs; this covers a user's own workflows on the same worker.
      defaultVersioningBehavior: 'PINNED',
    },
  };
}

export async function createHumeWorker(options: HumeWorkerOptions): Promise<Worker> {
  const hume = options.hume instanceof HumeClient ? options.hume : new HumeClient(options.hume);
  const { workerOptions = {} } = options;
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue,
    activities: createActivities({ hume, callbacks: options.callbacks, storage: options.storage ?? createStorage() }),
    dataConverter: options.dataConverter,
    ...(options.deployment && deploymentOptions(options.deployment)),
    ...(workerOptions.workflowBundle ? {} : { workflowsPath: workflowsPath() }),
    ...workerOptions,
    ...(!workerOptions.workflowBundle && {
      bundlerOptions: { ...workerOptions.bundlerOptions, preloadModules: preloadModulesFor(workerOptions.workflowsPath ?? workflowsPath(), workerOptions.bundlerOptions?.preloadModules) },
    }),
  });
}

/** What a worker started from the environment tells its caller. */
export interface WorkerStartHooks {
  /** Warnings at start (Hume not answering): the worker starts anyway. @default the `log` function */
  warn?(message: string): void;
  /** Once the worker polls its task queue: where, and where callbacks go (none when polling). */
  onReady?(ready: WorkerReady): void;
  /** Where the SDK's own logs (and workflow and activity log lines, with their ids) go. @default the SDK's console logger */
  sdkLogger?: Logger;
}

export interface WorkerReady {
  taskQueue: string;
  address: string;
  namespace: string;
  /** The callback base URL the worker signs (the receiver's actual address for `auto`); none when jobs are polled. */
  callbackBaseUrl?: string;
}

/** The ready line `temporal-hume worker` prints on stdout. */
export function readyLine(ready: WorkerReady): string {
  const callbacks = ready.callbackBaseUrl ? `callbacks at ${ready.callbackBaseUrl}` : 'jobs polled (no HUME_CALLBACK_BASE_URL)';
  return `worker ready: task queue ${ready.taskQueue} on ${ready.address} (${ready.namespace}); ${callbacks}`;
}

/**
 * Runs a worker (and the receiver, when HUME_CALLBACK_BASE_URL is set) from the environment until
 * SIGINT/SIGTERM, then shuts down gracefully: in-flight activities finish or are handed back.
 *
 * Before it polls, it refuses to start, with one line, when Hume rejects the key (one
 * `listJobs(limit 1)`), when `HUME_RESULTS_ROOT` is set and not writable, or when Temporal cannot
 * be reached. Hume not answering (5xx, 429, network) is retried a few times, then only warned
 * about: Hume may be down, and runs wait for it.
 */
export async function runWorkerFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  log: (message: string) => void = (m) => void process.stderr.write(`${m}\n`),
  hooks: WorkerStartHooks = {},
) {
  const config = loadHumeEnv(env);
  if (!config.HUME_API_KEY) throw new ConfigError('invalid configuration: HUME_API_KEY is not set: the worker needs it to call Hume');
  const warn = hooks.warn ?? log;
  const dataConverter = dataConverterFromEnv(env);
  const { connectionOptions, namespace } = loadTemporalConnectConfig(env);

  const hume = await probeHume({ apiKey: config.HUME_API_KEY, baseUrl: config.HUME_BASE_URL }, { onRetry: (line, ms) => warn(`${line}; trying again in ${ms} ms`) });
  if (!hume.ok && hume.final) throw new Error(`worker not started: ${hume.line}`, { cause: hume.error });
  if (!hume.ok) warn(`${hume.line}: starting anyway; jobs wait until Hume answers`);
  const storage = createStorage({ env });
  if (config.HUME_RESULTS_ROOT) await checkResultsRoot(storage, config.HUME_RESULTS_ROOT);

  // Before any connection: the Runtime is the process's, its logger and metrics every worker's.
  const metrics = config.TEMPORAL_HUME_METRICS_ADDRESS;
  installRuntime({ sdkLogger: hooks.sdkLogger, metricsAddress: metrics }, 'worker');
  if (metrics) log(`metrics at http://${metrics}/metrics`);
  const connection = await NativeConnection.connect(connectionOptions).catch((err: unknown) => {
    throw new TemporalUnreachableError(connectionOptions.address, err);
  });
  const secrets = webhookSecrets(config);
  const deployment = config.TEMPORAL_HUME_DEPLOYMENT_NAME && config.TEMPORAL_HUME_BUILD_ID
    ? { name: config.TEMPORAL_HUME_DEPLOYMENT_NAME, buildId: config.TEMPORAL_HUME_BUILD_ID }
    : undefined;
  let callbacks: CallbackConfig | undefined;
  let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;
  let clientConnection: Connection | undefined;
  try {
    // The receiver first: a busy port fails fast, before a worker holds the connection.
    if (config.HUME_CALLBACK_BASE_URL && config.HUME_WEBHOOK_RECEIVER === 'on') {
      clientConnection = await Connection.connect(connectionOptions);
      receiver = await startReceiver({
        client: new Client({ connection: clientConnection, namespace, dataConverter }),
        secrets,
        host: config.HUME_WEBHOOK_HOST,
        port: config.HUME_WEBHOOK_PORT,
        logger: { ...loggerOptions(env), stream: process.stderr },
        onCallback: callbackMetrics(),
      });
      callbacks = { baseUrl: callbackBaseUrl(config, receiver.url) as string, secrets };
      log(`webhook receiver listening on ${receiver.url} (public: ${callbacks.baseUrl})`);
    } else if (config.HUME_CALLBACK_BASE_URL) {
      callbacks = { baseUrl: callbackBaseUrl(config) as string, secrets };
      log(`callbacks go to ${callbacks.baseUrl} (received by a separate webhook service)`);
    } else {
      log('no HUME_CALLBACK_BASE_URL: jobs are polled');
    }
    const worker = await createHumeWorker({
      connection,
      namespace,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      hume: {
        apiKey: config.HUME_API_KEY,
        baseUrl: config.HUME_BASE_URL,
        maxRequestsPerSecond: config.HUME_MAX_REQUESTS_PER_SECOND,
        maxConcurrentTransfers: config.HUME_MAX_CONCURRENT_TRANSFERS,
        observer: humeRequestMetrics(),
      },
      callbacks,
      dataConverter,
      storage,
      ...(deployment && { deployment }),
    });
    const version = deployment ? `, deployment ${deployment.name} build ${deployment.buildId}` : '';
    log(`worker polling task queue ${config.TEMPORAL_TASK_QUEUE} on ${connectionOptions.address} (${namespace})${version}${dataConverter ? ', payloads encrypted' : ''}`);
    hooks.onReady?.({ taskQueue: config.TEMPORAL_TASK_QUEUE, address: connectionOptions.address, namespace, callbackBaseUrl: callbacks?.baseUrl });
    await worker.run();
  } finally {
    await receiver?.close();
    await clientConnection?.close();
    await connection.close();
  }
}

/** The results root is usable: a local folder writable (checkWritable), an S3 prefix checked by the storage. */
async function checkResultsRoot(storage: Storage, root: string): Promise<void> {
  if (!isS3Location(root)) return checkWritable(resolve(root));
  try {
    await storage.check(root);
  } catch (err) {
    if (!(err instanceof StorageConfigError)) throw err;
    throw new ConfigError(`worker not started: the results root (HUME_RESULTS_ROOT) is not usable: ${err.message}`, { cause: err });
  }
}

/** Creates `dir` if needed and writes (then removes) a file in it: the worker's runs will write there. */
async function checkWritable(dir: string): Promise<void> {
  const probe = join(dir, `.temporal-hume-write-check-${randomUUID()}`);
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(probe, '');
    await rm(probe, { force: true });
  } catch (err) {
    const failure = unwritableFailure(err, dir);
    const reason = failure instanceof Error ? failure.message : String(err);
    throw new ConfigError(`worker not started: the results root ${dir} (HUME_RESULTS_ROOT) is not writable: ${reason}`, { cause: err });
  }
}
