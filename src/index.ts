/**
 * `temporal-hume`: worker and client side. Workflow code imports from `temporal-hume/workflows`
 * instead (sandbox-safe); tests import the Hume-compatible server from `temporal-hume/emulator`.
 */
export { HumeBatchPlugin, type HumeBatchPluginOptions } from './plugin.js';
export { createHumeWorker, runWorkerFromEnv, workflowsPath, type HumeWorkerOptions } from './worker.js';
export { createActivities, type ActivityDeps, type CallbackConfig, type HumeActivities } from './activities/index.js';
export { startRun, getRun, redriveRun, runHumeJob, RunHandle, InvalidInputError, runWorkflowId, type StartOptions } from './client.js';
export { HumeClient, type HumeClientOptions } from './hume/client.js';
export { HumeError, isRetryableHumeError, type HumeErrorCode } from './hume/errors.js';
export { HUME_LIMITS } from './hume/limits.js';
export { buildReceiver, startReceiver, type ReceiverOptions, type RunningReceiver } from './webhook/receiver.js';
export { startDevServer, resolveTemporalCli, type DevServer, type DevServerOptions } from './devserver/index.js';
export { loadHumeEnv, loadTemporalConnectConfig } from './config.js';
export { createStorage, type Storage, type StorageOptions, type StoredFile } from './store/storage.js';
export type { ResultStore } from './store/store.js';
export { StorageConfigError } from './store/s3-client.js';
export {
  createEncryptionCodec,
  dataConverterFromEnv,
  codecKeysFromEnv,
  buildCodecServer,
  startCodecServer,
  isEncrypted,
  CodecKeyError,
  PayloadDecryptionError,
} from './codec/index.js';
export type * from './workflows/definitions.js';
export type { HumeJobInput, HumeJobResult } from './schemas/humeJob.js';
export type { HumeBatchInput, ManifestItem } from './schemas/batch.js';
