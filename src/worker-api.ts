/**
 * `temporal-hume/worker`: worker code — the plugin for your own worker, our worker factory, the
 * activities, the Hume client, the webhook receiver, storage, configuration and the codec server.
 */
export { HumeBatchPlugin, LOCAL_ACTIVITIES, type HumeBatchPluginOptions } from './plugin.js';
export { createHumeWorker, deploymentOptions, runWorkerFromEnv, sharedWorkflowModules, workflowsPath, type HumeWorkerOptions, type WorkerDeployment } from './worker.js';
export { createActivities, type ActivityDeps, type CallbackConfig, type HumeActivities } from './activities/index.js';
export { HumeClient, type HumeClientOptions } from './hume/client.js';
export { buildReceiver, startReceiver, type ReceiverOptions, type RunningReceiver } from './webhook/receiver.js';
export { loadHumeEnv, loadTemporalConnectConfig } from './config.js';
export { createStorage, type Storage, type StorageOptions, type StoredFile } from './store/storage.js';
export type { ResultStore } from './store/store.js';
export { StorageConfigError } from './store/s3-client.js';
export { buildCodecServer, startCodecServer } from './codec/server.js';
export { callbackMetrics, HISTOGRAM_BUCKETS, humeRequestMetrics, METRICS } from './metrics.js';
