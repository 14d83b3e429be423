/**
 * The activities the worker registers, built from their dependencies. Names carry a `hume`
 * prefix so they never collide with a user's own activities on a shared worker.
 */
import { dirname } from 'node:path';
import type { HumeClient } from '../hume/client.js';
import { createFinalizeActivities } from './finalize.js';
import { loadItemsForIndex } from './batch-items.js';
import { createManifestActivities } from './manifest.js';
import { createCheckJob } from './poll.js';
import { humePlanRedrive } from './redrive.js';
import { createFetchResults, humeRecordBatchFailure } from './results.js';
import { type CallbackConfig, createSubmitJob } from './submit.js';
import { humeSettleBatches } from './supervise.js';

export interface ActivityDeps {
  /** Holds the API key: it stays in the worker, never in workflow input or history. */
  hume: HumeClient;
  /** Where Hume should call back; without it jobs are polled. */
  callbacks?: CallbackConfig;
}

export function createActivities({ hume, callbacks }: ActivityDeps) {
  const { humeFinalizeRun } = createFinalizeActivities({
    loadItems: (manifest, range, { config, allowedRoot }) =>
      loadItemsForIndex(manifest, range, { baseDir: dirname(manifest.path), config, allowedRoot }),
  });
  return {
    ...createManifestActivities(),
    humePlanRedrive,
    humeSubmitJob: createSubmitJob(hume, callbacks),
    humeCheckJob: createCheckJob(hume),
    humeFetchResults: createFetchResults(hume),
    humeRecordBatchFailure,
    humeSettleBatches,
    humeFinalizeRun,
  };
}

export type HumeActivities = ReturnType<typeof createActivities>;
export type { CallbackConfig } from './submit.js';
