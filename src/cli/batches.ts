/**
 * What `status` adds to a running run's progress: each in-flight batch's own state (its humeJob
 * child's `status` query), and whether any worker polls the run's task queue. Both are bounded:
 * a few batches, each query with a short deadline, so `status` answers in seconds on any run.
 */
import proto from '@temporalio/proto';
import type { HumeJobStatus } from '../workflows/definitions.js';
import { statusQuery } from '../workflows/definitions.js';
import type { TemporalSession } from './temporal.js';

/** Batches shown; a run may have 500 in flight. */
export const BATCHES_SHOWN = 20;
/** One child's status query: a worker answers in milliseconds, so this only bounds a stuck one. */
const BATCH_QUERY_TIMEOUT_MS = 3_000;

export interface BatchState {
  batch: number;
  workflowId: string;
  /** Undefined when the child's query went unanswered in time. */
  status?: HumeJobStatus;
}

/** `<run workflow id>/batch-<n>` or, run again after a pause, `…/batch-<n>.<generation>`. */
const batchNumber = (workflowId: string) => Number(/\/batch-(\d+)(?:\.\d+)?$/.exec(workflowId)?.[1] ?? Number.NaN);

/**
 * The run's batches in flight, lowest batch first, at most `limit`, and how many are in flight in
 * all: as the run's progress lists them, or — from a run that does not list them — by visibility,
 * which lags the run by a moment.
 */
export async function inFlightBatches(
  session: TemporalSession,
  runWorkflowId: string,
  fromProgress?: { listed: Array<{ batch: number; workflowId: string }>; running: number },
  limit = BATCHES_SHOWN,
): Promise<{ batches: BatchState[]; running: number }> {
  const { listed, running } = fromProgress ?? (await listByVisibility(session, runWorkflowId));
  const shown = [...listed].sort((a, b) => a.batch - b.batch).slice(0, limit);
  const batches = await Promise.all(
    shown.map(async ({ workflowId, batch }): Promise<BatchState> => {
      const handle = session.client.workflow.getHandle(workflowId);
      const within = <T>(fn: () => Promise<T>) => session.client.withDeadline(Date.now() + BATCH_QUERY_TIMEOUT_MS, fn).catch(() => undefined);
      const status = await within(() => handle.query(statusQuery));
      // An activity retrying (Hume unreachable, say) shows only in Temporal's description: its last failure is the why.
      if (status && !status.lastError && (status.phase === 'submitting' || status.phase === 'fetching')) {
        const pending = (await within(() => handle.describe()))?.raw.pendingActivities?.[0];
        const failure = pending?.lastFailure?.message;
        if (failure) status.lastError = `${failure} (try ${pending?.attempt ?? '?'})`;
      }
      return { batch, workflowId, ...(status ? { status } : {}) };
    }),
  );
  return { batches, running };
}

async function listByVisibility(session: TemporalSession, runWorkflowId: string) {
  const query = `ParentWorkflowId = ${JSON.stringify(runWorkflowId)} AND ExecutionStatus = "Running"`;
  const listed: Array<{ batch: number; workflowId: string }> = [];
  for await (const execution of session.client.workflow.list({ query, pageSize: 100 })) {
    listed.push({ workflowId: execution.workflowId, batch: batchNumber(execution.workflowId) });
  }
  return { listed, running: listed.length };
}

/** One line for a batch: `waiting, attempt 1/3, Hume job 1f2… (QUEUED), last error: …`. */
export function describeBatch({ status }: BatchState): string {
  if (!status) return 'no answer from a worker';
  const job = status.jobId ? `, Hume job ${status.jobId}${status.humeStatus ? ` (${status.humeStatus})` : ''}` : '';
  const error = status.lastError ? `, last error: ${status.lastError}` : '';
  return `${status.phase}, attempt ${status.attempt}/${status.maxJobAttempts}${job}${error}`;
}

/** Whether any worker has polled the task queue for workflow tasks lately (the server keeps pollers for a few minutes). */
export async function hasWorker(session: TemporalSession, taskQueue: string): Promise<boolean> {
  const response = await session.client.workflowService.describeTaskQueue({
    namespace: session.namespace,
    taskQueue: { name: taskQueue, kind: proto.temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  return (response.pollers?.length ?? 0) > 0;
}

export const noWorkerLine = (taskQueue: string) => `no worker is polling task queue ${taskQueue}: start \`temporal-hume worker\``;
