/**
 * `temporal-hume`: client code — start, follow, control and redrive runs; payload encryption for
 * clients; failure types and input schemas. It loads neither the native worker nor an HTTP server.
 * Worker code imports from `temporal-hume/worker`, workflow code from `temporal-hume/workflows`
 * (sandbox-safe), tests the Hume-compatible server from `temporal-hume/testing`.
 */
export { startRun, getRun, redriveRun, runHumeJob, RunHandle, InvalidInputError, runWorkflowId, type StartOptions } from './client.js';
export { HumeError, isRetryableHumeError, type HumeErrorCode } from './hume/errors.js';
export { HUME_LIMITS } from './hume/limits.js';
export { createEncryptionCodec, isEncrypted, CodecKeyError, PayloadDecryptionError } from './codec/encryption.js';
export { dataConverterFromEnv, codecKeysFromEnv } from './codec/env.js';
export { FAILURE_TYPES } from './workflows/definitions.js';
export { humeFailureOf, type FailureDetails, type HumeFailure } from './workflows/failures.js';
export { ManifestItem } from './schemas/batch.js';
export type { HumeJobResult } from './schemas/humeJob.js';
export { HumeBatchInput, HumeJobInput } from './schemas/inputs.js';
export type * from './workflows/definitions.js';
