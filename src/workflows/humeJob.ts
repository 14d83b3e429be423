/**
 * `humeJob`: one Hume job, done durably. Submit, wait for the callback signal (or poll after a
 * silence), confirm the state with Hume, then store the predictions. A FAILED job is resubmitted
 * as a new job up to `maxJobAttempts` times.
 */
import { msToNumber as msOf } from '@temporalio/common';
import {
  ApplicationFailure,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { HumeActivities } from '../activities/index.js';
import type { JobSnapshot } from '../activities/poll.js';
import {
  type BatchFinished,
  batchFinishedSignal,
  HUME_JOB_IDS,
  type HumeJobInput,
  type HumeJobResult,
  type HumeJobStatus,
  jobFinishedSignal,
  statusQuery,
} from './definitions.js';

const DEFAULT_MAX_JOB_ATTEMPTS = 3;

// Hume calls are retried forever on retryable errors (429/5xx/network, honouring Retry-After);
// non-retryable ones (400/401/403/404/422) fail at once. Heartbeats notice a dead worker in seconds.
const retry = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' } as const;
const { humeSubmitJob, humeFetchResults } = proxyActivities<HumeActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '15 seconds',
  retry,
});
const { humeRecordBatchFailure } = proxyActivities<HumeActivities>({ startToCloseTimeout: '1 minute', retry });
// One short GET: a local activity runs it inside the workflow task, one marker event instead of a
// scheduled task's three plus a workflow task of its own.
const { humeCheckJob } = proxyLocalActivities<HumeActivities>({ startToCloseTimeout: '30 seconds', retry });

export async function humeJob(input: HumeJobInput): Promise<HumeJobResult> {
  const startedAt = Date.now();
  const maxJobAttempts = input.maxJobAttempts ?? DEFAULT_MAX_JOB_ATTEMPTS;
  const status: HumeJobStatus = { phase: 'submitting', attempt: 0, maxJobAttempts, jobIds: [], polls: 0, callbacks: 0 };
  // Callbacks may arrive before the submit activity returns: remember them by job id.
  const reported = new Set<string>();

  setHandler(statusQuery, () => status);
  setHandler(jobFinishedSignal, ({ jobId }) => {
    status.callbacks++;
    reported.add(jobId);
  });

  try {
    for (let attempt = 1; attempt <= maxJobAttempts; attempt++) {
      status.attempt = attempt;
      status.phase = 'submitting';
      const submitted = await humeSubmitJob({
        input,
        submissionKey: `${workflowInfo().workflowId}/${workflowInfo().runId}/${attempt}`,
      });
      const submittedAt = Date.now();
      status.jobId = submitted.jobId;
      status.jobIds.push(submitted.jobId);
      // Findable in the Temporal UI by Hume job id.
      upsertMemo({ humeJobIds: status.jobIds });
      if (input.searchAttributes) upsertSearchAttributes([{ key: HUME_JOB_IDS, value: [...status.jobIds] }]);
      status.phase = 'waiting';

      const final = await waitUntilFinished(submitted.jobId, submitted.callbacks);
      if (final.status === 'COMPLETED') {
        status.phase = 'fetching';
        const stored = await humeFetchResults({
          jobId: submitted.jobId,
          resultDir: input.resultDir,
          artifacts: input.artifacts,
          batch: input.batch,
          config: input.config,
        });
        status.phase = 'completed';
        await reportToParent({ status: 'completed', items: stored.batchItems ?? { completed: 0, failed: 0 } });
        return {
          jobId: submitted.jobId,
          status: 'COMPLETED',
          jobIds: status.jobIds,
          attempts: attempt,
          ...stored,
          timings: {
            startedAt,
            submittedAt,
            humeCreatedMs: final.createdMs,
            humeStartedMs: final.startedMs,
            humeEndedMs: final.endedMs,
            finishedAt: Date.now(),
          },
        };
      }
      status.lastError = `Hume job ${submitted.jobId} FAILED: ${final.message ?? 'no message'}`;
    }
    throw ApplicationFailure.nonRetryable(
      `gave up after ${maxJobAttempts} Hume job(s) ended FAILED; last: ${status.lastError}`,
      'HUME_JOB_FAILED',
      { jobIds: status.jobIds },
    );
  } catch (err) {
    if (isCancellation(err)) {
      status.phase = 'cancelled';
      throw err;
    }
    status.phase = 'failed';
    const message = failureMessage(err);
    status.lastError ??= message;
    if (input.batch) {
      await humeRecordBatchFailure({ batch: input.batch, config: input.config, jobIds: status.jobIds, error: message });
      await reportToParent({ status: 'failed', items: { completed: 0, failed: input.batch.range.items }, error: message });
    }
    throw err;
  }

  /** A batch child tells its parent (by id, so the latest run gets it) that it is done. */
  async function reportToParent(report: Pick<BatchFinished, 'status' | 'items' | 'error'>): Promise<void> {
    const parent = workflowInfo().parent;
    if (!input.batch || !parent) return;
    try {
      await getExternalWorkflowHandle(parent.workflowId).signal(batchFinishedSignal, {
        batch: input.batch.range.index,
        jobIds: status.jobIds,
        ...report,
      });
    } catch {
      // The parent is gone (cancelled or finished): nobody is waiting for this report.
    }
  }

  /**
   * Waits for a callback or a growing silence, then asks Hume; only Hume's own answer counts, so
   * forged, duplicated or stale callbacks cost at most one extra look.
   */
  async function waitUntilFinished(jobId: string, callbacks: boolean): Promise<JobSnapshot> {
    const polling = input.polling ?? {};
    let silenceMs = msOf(polling.firstPollAfter ?? (callbacks ? '3 minutes' : '5 seconds'));
    const maxSilenceMs = msOf(polling.maxInterval ?? (callbacks ? '10 minutes' : '1 minute'));
    const backoff = polling.backoffCoefficient ?? 2;
    for (;;) {
      const hinted = await condition(() => reported.has(jobId), silenceMs);
      reported.delete(jobId);
      if (!hinted) status.polls++;
      const snapshot = await humeCheckJob({ jobId });
      status.humeStatus = snapshot.status;
      if (snapshot.status === 'COMPLETED' || snapshot.status === 'FAILED') return snapshot;
      if (!hinted) silenceMs = Math.min(silenceMs * backoff, maxSilenceMs);
    }
  }
}

function failureMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}
