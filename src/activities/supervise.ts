/**
 * Supervision of a run's batch workflows from outside them: how each one ended, read from
 * Temporal, for children the run cannot await (carried across continue-as-new) or that ended
 * without a word (terminated, timed out). A batch that ended that way gets its failed outcome
 * written here, so the index names every item and `redrive` re-runs them.
 */
import { Context } from '@temporalio/activity';
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { JobConfig } from '../hume/schemas.js';
import type { BatchSource, HumeJobResult } from '../schemas/humeJob.js';
import { FAILURE_TYPES } from '../workflows/definitions.js';
import type { Storage } from '../store/storage.js';
import { createRecordBatchFailure } from './results.js';
import { SubmissionJournal } from './submissions.js';

export interface SettleBatchesInput {
  /** The run the batches belong to: a running workflow is ours when its memo names this run and batch. */
  runId: string;
  batches: Array<{ workflowId: string; batch: BatchSource }>;
  config?: JobConfig;
}

export type BatchState =
  | { workflowId: string; batch: number; state: 'running'; ours: boolean }
  | { workflowId: string; batch: number; state: 'completed'; jobIds: string[]; items: { completed: number; failed: number } }
  | { workflowId: string; batch: number; state: 'failed' | 'blocked'; jobIds: string[]; error: string };

/** Close statuses after which the child never ran its own failure path. */
const SILENT_ENDS: Record<string, string> = {
  TERMINATED: 'terminated by operator',
  TIMED_OUT: 'timed out (workflow timeout)',
};

export function createSettleBatches(storage: Storage) {
  const recordFailure = createRecordBatchFailure(storage);
  return function humeSettleBatches(input: SettleBatchesInput): Promise<BatchState[]> {
    return settleBatches(input, recordFailure, storage);
  };
}

type RecordFailure = ReturnType<typeof createRecordBatchFailure>;

/** A job makes at most this many attempts (its schema's `maxJobAttempts`). */
const MAX_ATTEMPTS = 20;

/**
 * The Hume jobs a batch's workflow created, from the submissions journal in the run folder: one
 * record per attempt, written before the request went out, so the first missing one ends the list.
 * (Jobs from before lean jobs keep them in their memo too.)
 */
async function journalJobIds(storage: Storage, workflowId: string, batch: BatchSource): Promise<string[]> {
  if (!batch.runChainId) return [];
  const folder = storage.folder(batch.runDir);
  const jobIds: string[] = [];
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const record = await new SubmissionJournal(folder, `${workflowId}/${batch.runChainId}/${attempt}`).read();
    if (!record) break;
    if (record.jobId) jobIds.push(record.jobId);
  }
  return jobIds;
}

async function settleBatches({ runId, batches, config }: SettleBatchesInput, recordFailure: RecordFailure, storage: Storage): Promise<BatchState[]> {
  const { client } = Context.current();
  const recordSilentEnd = async (workflowId: string, batch: BatchSource, jobIds: string[], error: string): Promise<BatchState> => {
    await recordFailure({ batch, config, jobIds, error });
    return { workflowId, batch: batch.range.index, state: 'failed', jobIds, error };
  };
  const states: BatchState[] = [];
  for (const { workflowId, batch } of batches) {
    const index = batch.range.index;
    const handle = client.workflow.getHandle(workflowId);
    let description;
    try {
      description = await handle.describe();
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      states.push(await recordSilentEnd(workflowId, batch, [], 'its workflow no longer exists'));
      continue;
    }
    const status = description.status.name;
    const jobIdsOf = async () => (Array.isArray(description.memo?.humeJobIds) ? (description.memo.humeJobIds as string[]) : await journalJobIds(storage, workflowId, batch));
    if (status === 'RUNNING') {
      const ours = description.type === 'humeJob' && description.memo?.runId === runId && description.memo?.batch === index;
      states.push({ workflowId, batch: index, state: 'running', ours });
    } else if (status === 'COMPLETED') {
      const result = (await handle.result()) as HumeJobResult;
      states.push({ workflowId, batch: index, state: 'completed', jobIds: result.jobIds, items: result.batchItems ?? { completed: 0, failed: 0 } });
    } else if (status === 'FAILED') {
      const failure = await handle.result().then(() => undefined, (err: unknown) => err);
      const cause = failure instanceof WorkflowFailedError ? failure.cause : undefined;
      const blocked = cause instanceof ApplicationFailure && cause.type === FAILURE_TYPES.accountBlocked;
      states.push({ workflowId, batch: index, state: blocked ? 'blocked' : 'failed', jobIds: await jobIdsOf(), error: cause?.message ?? 'failed' });
    } else if (status === 'CANCELLED') {
      // A cancelled child records its own outcome on the way out.
      states.push({ workflowId, batch: index, state: 'failed', jobIds: await jobIdsOf(), error: 'cancelled' });
    } else {
      states.push(await recordSilentEnd(workflowId, batch, await jobIdsOf(), SILENT_ENDS[status] ?? `ended ${status.toLowerCase()}`));
    }
  }
  return states;
}
