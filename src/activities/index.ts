/**
 * The activities the worker registers, built from their dependencies. Names carry a `hume`
 * prefix so they never collide with a user's own activities on a shared worker.
 */
import type { HumeClient } from '../hume/client.js';
import { parentLocation } from '../store/location.js';
import { createStorage, type Storage } from '../store/storage.js';
import { createFinalizeActivities } from './finalize.js';
import { loadItemsForIndex } from './batch-items.js';
import { createManifestActivities } from './manifest.js';
import { createCheckJob } from './poll.js';
import { createPlanRedrive } from './redrive.js';
import { createFetchResults, createRecordBatchFailure } from './results.js';
import { type CallbackConfig, createSubmitJob } from './submit.js';
import { createSettleBatches } from './supervise.js';

export interface ActivityDeps {
  /** Holds the API key: it stays in the worker, never in workflow input or history. */
  hume: HumeClient;
  /** Where Hume should call back; without it jobs are polled. */
  callbacks?: CallbackConfig;
  /** Where manifests, media files and results folders are: local paths, or S3 (`s3://…`). @default from the environment */
  storage?: Storage;
}

export function createActivities({ hume, callbacks, storage = createStorage() }: ActivityDeps) {
  const { humeFinalizeRun } = createFinalizeActivities({
    storage,
    loadItems: (manifest, range, { config, allowedRoot }) =>
      loadItemsForIndex(manifest, range, { baseDir: parentLocation(manifest.path), storage, config, allowedRoot }),
  });
  return {
    ...createManifestActivities(storage),
    humePlanRedrive: createPlanRedrive(storage),
    humeSubmitJob: createSubmitJob(hume, callbacks, storage),
    humeCheckJob: createCheckJob(hume),
    humeFetchResults: createFetchResults(hume, storage),
    humeRecordBatchFailure: createRecordBatchFailure(storage),
    humeSettleBatches: createSettleBatches(storage),
    humeFinalizeRun,
  };
}

export type HumeActivities = ReturnType<typeof createActivities>;
export type { CallbackConfig } from './submit.js';
