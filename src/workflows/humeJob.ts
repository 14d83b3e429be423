/**
 * `humeJob`: one Hume job, done durably. Submit, wait for the callback signal (or poll after a
 * silence), learn the state from Hume — a COMPLETED callback by fetching the predictions, which
 * Hume serves only for a completed job, anything else by asking — then store the predictions. A FAILED job is resubmitted
 * as a new job, after a backoff, up to `maxJobAttempts` times; one that never finishes counts as
 * FAILED after `maxJobDuration`. A Hume outage costs durable timers, and the workflow continues
 * as new when Temporal suggests it, so its history stays bounded however long the job takes.
 */
import { msToNumber as msOf } from '@temporalio/common';
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  ContinueAsNew,
  TemporalFailure,
  allHandlersFinished,
  condition,
  makeContinueAsNewFunc,
  patched,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  log,
  metricMeter,
  proxyLocalActivities,
  setHandler,
  setWorkflowOptions,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { HumeActivities } from '../activities/index.js';
import type { JobSnapshot } from '../activities/poll.js';
import { HumeJobEntry } from '../schemas/humeJob.js';
import {
  type BatchFinished,
  batchFinishedSignal,
  FAILURE_TYPES,
  FETCH_HANDED_OVER,
  METRICS,
  HUME_JOB_IDS,
  type HumeJobInput,
  type HumeJobResult,
  type HumeJobStatus,
  jobFinishedSignal,
  reportWhenDoneSignal,
  statusQuery,
  SUBMIT_HANDED_OVER,
} from './definitions.js';
import { failureMessage } from './failure-message.js';
import { parseWorkflowInput } from './input.js';
import { SUMMARIES } from './summaries.js';
import { continueAsNewSuggested, pinnedWhenVersioned } from './versioning.js';
import { LEAN_JOB } from './lean.js';
import { isAccountFailureMessage, isAccountFailureType, jitter, outageWaitMs, resubmitDelayMs } from './pacing.js';

const DEFAULT_MAX_JOB_ATTEMPTS = 3;
const DEFAULT_MAX_JOB_DURATION = '24 hours';
const DEFAULT_RESUBMIT_DELAY = '30 seconds';
/** Patch: a COMPLETED callback goes straight to the fetch (histories from before ask Hume first; a lean job always does). */
const FETCH_ON_COMPLETED_CALLBACK = 'fetch-on-completed-callback';
/** Attempts of that fetch before the job asks Hume instead (a confirmed job's fetch is retried forever). */
const SHORTCUT_FETCH_ATTEMPTS = 3;

// Submit and fetch are retried forever on retryable errors (429/5xx/network, honouring
// Retry-After) — activity retries add no events; non-retryable ones (400/401/403/404/422) fail at
// once. Heartbeats notice a dead worker in seconds, the client's idle timeouts a stalled transfer;
// the attempt's own cap only has to outlast a large upload on a slow link (500 MB at 100 kB/s:
// 1.4 hours). A download cut by it resumes where it stopped.
const retry = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' } as const;
const { humeSubmitJob, humeFetchResults } = proxyActivities<HumeActivities>({
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '15 seconds',
  retry,
});
// Recording a failure is tried for a while, not forever: the report to the parent must still go out.
const { humeRecordBatchFailure } = proxyActivities<HumeActivities>({ startToCloseTimeout: '1 minute', retry: { ...retry, maximumAttempts: 10 } });
// One short GET as a local activity: one marker instead of a scheduled task's three events. Its
// retries run inside the workflow task, so they are few and bounded; past them a durable timer
// takes over (see `outageWaitMs`).
const { humeCheckJob } = proxyLocalActivities<HumeActivities>({
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumAttempts: 3 },
});
// A job without files is one short JSON request: submitted inside the workflow task (one marker
// instead of three events and a task more). One try: whatever fails (a 5xx, a slow answer, a busy
// request limiter, a large body) goes to the scheduled activity above, whose retries cost no
// events and hold no workflow task; the submissions journal makes the two one submit.
const { humeSubmitJob: humeSubmitJobHere } = proxyLocalActivities<HumeActivities>({
  startToCloseTimeout: '20 seconds',
  retry: { maximumAttempts: 1 },
});
// The predictions of a few short texts are small: after a COMPLETED callback they are fetched
// inside the workflow task too (a marker instead of three events and the task that follows). One
// try, as for the submit: Hume's refusal is an answer; anything else (a slow link, a busy
// transfer slot, a folder this worker cannot write) goes to the scheduled fetch, which downloads
// again (a local attempt has no heartbeat to resume from).
const { humeFetchResults: humeFetchResultsHere } = proxyLocalActivities<HumeActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 1 },
});
/** Texts up to this many UTF-16 units fetch here (word granularity: ~400 bytes of predictions a byte, ~25 MB). */
const FETCH_HERE_MAX_TEXT = 64 * 1024;

// Pinned on a versioned worker: a job runs on the code that started it (its parent's build, when
// a child) until it ends or continues as new.
setWorkflowOptions(pinnedWhenVersioned, humeJob);

type ContinuedJobInput = HumeJobInput & { continuation?: JobCarry };

/** What a continued run of `humeJob` picks up. Plain data: it travels as the continue-as-new argument. */
export interface JobCarry {
  startedAt: number;
  attempt: number;
  jobIds: string[];
  polls: number;
  callbacks: number;
  /** The parent run asked for a report when done (it did not start this job: continue-as-new). */
  reportAsked?: boolean;
  /** Set by a lean run (src/workflows/lean.ts), for the run it continues as. */
  lean?: boolean;
  /** The job being waited for. */
  waiting?: Waiting;
}

interface Waiting {
  jobId: string;
  callbacks: boolean;
  submittedAt: number;
  /** Found, not created: its callback may have come and gone, so Hume is asked at once. */
  adopted?: boolean;
  /** A COMPLETED callback's shortcut was refused once: Hume is asked before fetching again. */
  confirmFirst?: boolean;
}

/** A job that cannot succeed while the account is refused; the run pauses and runs the batch again later. */
class AccountBlocked extends Error {}

export async function humeJob(input: HumeJobInput): Promise<HumeJobResult>;
// The job's own state rides in its input when it continues as new (never set by callers). Jobs
// continued by versions before 0.2 got it as a second argument: their histories still replay.
export async function humeJob(given: ContinuedJobInput, legacyCarried?: JobCarry): Promise<HumeJobResult> {
  const { continuation, ...input } = given;
  const carried = continuation ?? legacyCarried;
  const job = parseWorkflowInput(HumeJobEntry, input, 'humeJob');
  // Decided before the first command, and recorded: a job some older worker began replays its way.
  const lean = patched(LEAN_JOB);
  const { workflowId } = workflowInfo();
  const maxJobAttempts = job.maxJobAttempts ?? DEFAULT_MAX_JOB_ATTEMPTS;
  const maxJobDurationMs = msOf(job.maxJobDuration ?? DEFAULT_MAX_JOB_DURATION);
  const carry: JobCarry = carried ?? { startedAt: Date.now(), attempt: 0, jobIds: [], polls: 0, callbacks: 0 };
  if (lean) {
    // Continued from a run that was not lean (an older build): its parent may never ask, so it reports.
    if (carried && !carried.lean) carry.reportAsked = true;
    carry.lean = true;
  }
  // What only this run knows; attempt, job ids and counts are read from the carry.
  const status: Omit<HumeJobStatus, 'attempt' | 'maxJobAttempts' | 'jobIds' | 'polls' | 'callbacks'> = {
    phase: carry.waiting ? 'waiting' : 'submitting',
    jobId: carry.waiting?.jobId,
    checkFailures: 0,
  };
  // Callbacks may arrive before the submit activity returns: remember them (their status) by job id.
  const reported = new Map<string, string>();

  setHandler(statusQuery, (): HumeJobStatus => ({
    ...status,
    attempt: carry.attempt,
    maxJobAttempts,
    jobIds: [...carry.jobIds],
    polls: carry.polls,
    callbacks: carry.callbacks,
  }), { description: 'Where the job stands: phase, Hume job id and state, attempts, polls, callbacks, the last error.' });
  setHandler(jobFinishedSignal, ({ jobId, status }) => {
    carry.callbacks++;
    reported.set(jobId, status);
  }, { description: "Sent by the webhook receiver when Hume calls back: COMPLETED sends the job to fetch the predictions (served only for a completed job), anything else to ask Hume." });
  setHandler(reportWhenDoneSignal, () => {
    carry.reportAsked = true;
  }, { description: 'Sent by a parent run that continued as new: this batch then reports its completion to it by signal (the run that started it hears of it from its close).' });

  try {
    for (;;) {
      const waiting = carry.waiting ?? (await submitNext());
      const final = await waitUntilFinished(waiting);
      const ended = () => metricMeter.createHistogram(METRICS.jobLatency, 'int', 'ms', 'a Hume job from submission to its end').record(Math.max(0, Date.now() - waiting.submittedAt), { status: final.status });
      if (final.status === 'COMPLETED') {
        const done = await complete(waiting, final);
        // Taken from a callback, and Hume would not serve the predictions yet: ask it, then go on.
        if (!done) continue;
        ended();
        return done;
      }
      ended();
      status.lastError = `Hume job ${waiting.jobId} FAILED: ${final.message ?? 'no message'}`;
      carry.waiting = undefined;
      if (isAccountFailureMessage(final.message)) throw new AccountBlocked(status.lastError);
      if (carry.attempt >= maxJobAttempts) {
        throw ApplicationFailure.nonRetryable(
          `gave up after ${maxJobAttempts} Hume job(s) ended FAILED; last: ${status.lastError}`,
          FAILURE_TYPES.jobFailed,
          { jobIds: carry.jobIds },
        );
      }
    }
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    // Whatever ended the job — even a cancellation from the Temporal UI — its batch hears of it.
    await CancellationScope.nonCancellable(() => reportFailure(err));
    if (err instanceof AccountBlocked) {
      throw ApplicationFailure.nonRetryable(err.message, FAILURE_TYPES.accountBlocked, { jobIds: carry.jobIds });
    }
    throw err;
  }

  async function submitNext(): Promise<Waiting> {
    const attempt = ++carry.attempt;
    if (attempt > 1) {
      metricMeter.createCounter(METRICS.resubmissions, '1', 'jobs submitted again after one ended FAILED').add(1);
      log.info('resubmitting after a FAILED Hume job', { attempt, lastError: status.lastError });
      // A resubmission waits: a FAILED job often means Hume is struggling.
      status.phase = 'backing off';
      await sleep(resubmitDelayMs(msOf(job.resubmitDelay ?? DEFAULT_RESUBMIT_DELAY), attempt, workflowId));
    }
    status.phase = 'submitting';
    // Cancelled before anything was sent: nothing to leave at Hume.
    if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('cancelled before submitting');
    let submitted;
    try {
      // Not cut short by a cancellation: a request on its way to Hume may create a job, and a
      // cancelled job must still know (and record) the Hume job it leaves behind.
      submitted = await CancellationScope.nonCancellable(() => submit({
        input,
        attempt,
        // Stable across reset and continue-as-new of the job, and for a batch of its run too:
        // the first run id of a chain survives both, and names this run (not a later redrive).
        submissionKey: `${workflowId}/${job.batch?.runChainId ?? workflowInfo().firstExecutionRunId}/${attempt}`,
      }));
    } catch (err) {
      if (isAccountFailureType(failureType(err))) throw new AccountBlocked(failureMessage(err));
      throw err;
    }
    carry.jobIds.push(submitted.jobId);
    status.jobId = submitted.jobId;
    // An adoption is logged by the activity that found the job.
    if (!submitted.adopted) log.info('submitted a Hume job', { jobId: submitted.jobId, attempt });
    // Before lean jobs the job ids were in the memo too (an event per job).
    if (!lean) upsertMemo({ humeJobIds: carry.jobIds });
    if (job.searchAttributes) upsertSearchAttributes([{ key: HUME_JOB_IDS, value: [...carry.jobIds] }]);
    // An adopted job's deadline runs from when it was first sent.
    carry.waiting = { jobId: submitted.jobId, callbacks: submitted.callbacks, submittedAt: submitted.sentAtMs ?? Date.now(), adopted: submitted.adopted };
    return carry.waiting;
  }

  /** Texts and URLs by a local activity first (a lean job); files, and whatever it could not send, by the scheduled one. */
  async function submit(args: Parameters<HumeActivities['humeSubmitJob']>[0]) {
    const summary = SUMMARIES.submit(job.batch?.range.index, job.batch?.range.items, args.attempt);
    const hasFiles = job.batch ? job.batch.range.files > 0 : (job.files?.length ?? 0) > 0;
    if (lean && !hasFiles) {
      try {
        return await humeSubmitJobHere.executeWithOptions({ summary }, [args]);
      } catch (err) {
        // Refused (400/401/403/422) is an answer; anything else (timeouts, 5xx, a slow link) goes on below.
        const handedOver = failureType(err) === SUBMIT_HANDED_OVER;
        if (!handedOver && (!(err instanceof TemporalFailure) || isCancellation(err) || isNonRetryable(err))) throw err;
        if (!handedOver) log.info('submitting by a scheduled activity after the local one could not', { attempt: args.attempt, error: failureMessage(err) });
      }
    }
    return humeSubmitJob.executeWithOptions({ summary }, [args]);
  }

  /** The job's result once its predictions are stored; none when a callback's word turned out early. */
  async function complete(waiting: Waiting, final: JobSnapshot & { fromCallback?: boolean }): Promise<HumeJobResult | undefined> {
    status.phase = 'fetching';
    let stored;
    try {
      stored = final.fromCallback ? await fetchAfterCallback(waiting.jobId) : await fetchResults(waiting.jobId);
    } catch (err) {
      // Hume serves predictions of completed jobs only: a refusal after a callback (a forged or
      // early one) means asking Hume, as without the shortcut; a second refusal counts.
      if (!final.fromCallback || isCancellation(err) || !(err instanceof TemporalFailure)) throw err;
      status.lastError = `predictions of Hume job ${waiting.jobId} not served after its COMPLETED callback: ${failureMessage(err)}`;
      waiting.confirmFirst = true;
      return undefined;
    }
    // Served: Hume has it completed, whether a check said so or the download did.
    status.humeStatus = 'COMPLETED';
    status.phase = 'completed';
    // The parent run that started this job hears of it from its close; a later one asks (a lean job).
    if (!lean || carry.reportAsked) await reportToParent({ status: 'completed', items: stored.batchItems ?? { completed: 0, failed: 0 } });
    return {
      jobId: waiting.jobId,
      status: 'COMPLETED',
      jobIds: carry.jobIds,
      attempts: carry.attempt,
      ...stored,
      timings: {
        startedAt: carry.startedAt,
        submittedAt: waiting.submittedAt,
        humeCreatedMs: final.createdMs,
        humeStartedMs: final.startedMs,
        humeEndedMs: final.endedMs,
        finishedAt: Date.now(),
      },
    };
  }

  /**
   * The job completed at Hume: its predictions are worth waiting for. A key rejected meanwhile
   * (401/403) is waited out on timers until the worker has a key that works, never redone.
   */
  async function fetchResults(jobId: string) {
    for (let waitMs = 0; ; ) {
      try {
        return await humeFetchResults.executeWithOptions({ summary: SUMMARIES.fetch(jobId) }, [{ jobId, resultDir: job.resultDir, artifacts: job.artifacts, batch: job.batch, config: job.config }]);
      } catch (err) {
        if (!isAccountFailureType(failureType(err))) throw err;
        status.lastError = `cannot fetch the predictions of Hume job ${jobId}: ${failureMessage(err)}`;
        waitMs = outageWaitMs(waitMs);
        await sleep(waitMs);
      }
    }
  }

  /**
   * The fetch a COMPLETED callback sends straight to Hume: a few attempts only, so an answer that
   * is not the file (the job not done, a key refused) soon sends the job back to asking Hume.
   */
  async function fetchAfterCallback(jobId: string) {
    const summary = SUMMARIES.fetch(jobId);
    const args = [{ jobId, resultDir: job.resultDir, artifacts: job.artifacts, batch: job.batch, config: job.config }] as const;
    if (lean && fewShortTexts(job)) {
      try {
        return await humeFetchResultsHere.executeWithOptions({ summary }, [...args]);
      } catch (err) {
        // Refused by Hume (the job not completed after all) is an answer; anything else goes on below.
        if (!(err instanceof TemporalFailure) || isCancellation(err) || (isNonRetryable(err) && isHumeAnswer(err))) throw err;
        if (failureType(err) !== FETCH_HANDED_OVER) log.info('fetching by a scheduled activity after the local one could not', { jobId, error: failureMessage(err) });
      }
    }
    return humeFetchResults.executeWithOptions({ summary, retry: { ...retry, maximumAttempts: SHORTCUT_FETCH_ATTEMPTS } }, [...args]);
  }

  /** Records why the batch did not complete (an outcome in the folder) and tells the parent. */
  async function reportFailure(err: unknown): Promise<void> {
    const blocked = err instanceof AccountBlocked;
    status.phase = isCancellation(err) ? 'cancelled' : blocked ? 'blocked' : 'failed';
    const message = isCancellation(err) ? `cancelled; Hume job(s) ${carry.jobIds.join(', ') || 'none'} left at Hume` : failureMessage(err);
    status.lastError = message;
    if (!job.batch) return;
    const items = { completed: 0, failed: blocked ? 0 : job.batch.range.items };
    // A blocked batch runs again once the run resumes: it leaves no failed outcome behind.
    if (!blocked) {
      // Even if the folder cannot take it, the parent hears why (and its look-up records it).
      await humeRecordBatchFailure.executeWithOptions({ summary: SUMMARIES.recordFailure(job.batch.range.index) }, [{ batch: job.batch, config: job.config, jobIds: carry.jobIds, error: message }]).catch(() => undefined);
    }
    await reportToParent({ status: blocked ? 'blocked' : 'failed', items, error: message });
  }

  /** A batch child tells its parent (by id, so the latest run gets it) that it is done. */
  async function reportToParent(report: Pick<BatchFinished, 'status' | 'items' | 'error'>): Promise<void> {
    const parent = workflowInfo().parent;
    if (!job.batch || !parent) return;
    try {
      await getExternalWorkflowHandle(parent.workflowId).signal(batchFinishedSignal, {
        batch: job.batch.range.index,
        workflowId,
        jobIds: carry.jobIds,
        ...report,
      });
    } catch {
      // The parent is gone (cancelled or finished): nobody is waiting for this report.
    }
  }

  /**
   * Waits for a callback or a growing silence, then asks Hume; only Hume's own answer counts (a
   * COMPLETED callback is answered by the predictions download), so forged, duplicated or stale
   * callbacks cost at most one extra look. A job past its deadline
   * ends as FAILED; a check Hume does not answer waits on a timer that grows to minutes.
   */
  async function waitUntilFinished(waiting: Waiting): Promise<JobSnapshot & { fromCallback?: boolean }> {
    status.phase = 'waiting';
    const polling = job.polling ?? {};
    const firstMs = msOf(polling.firstPollAfter ?? (waiting.callbacks ? '3 minutes' : '5 seconds'));
    const maxSilenceMs = msOf(polling.maxInterval ?? (waiting.callbacks ? '10 minutes' : '1 minute'));
    const backoff = polling.backoffCoefficient ?? 2;
    const deadline = waiting.submittedAt + maxJobDurationMs;
    let silenceMs = waiting.adopted || waiting.confirmFirst ? 0 : firstMs * jitter(workflowId, carry.polls);
    for (;;) {
      if (continueAsNewSuggested()) {
        await condition(allHandlersFinished);
        // Onto the current build: a job continued on a build no longer current would be told again.
        await makeContinueAsNewFunc<(input: ContinuedJobInput) => Promise<HumeJobResult>>({ initialVersioningBehavior: 'AUTO_UPGRADE' })({ ...input, continuation: carry });
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        // One last look: a job that finished meanwhile is not given up.
        const last = await checkJob(waiting.jobId).catch(() => undefined);
        if (last?.status === 'COMPLETED' || last?.status === 'FAILED') return last;
        const still = last?.status ?? status.humeStatus ?? 'not confirmed';
        return { status: 'FAILED', message: `still ${still} after maxJobDuration (${job.maxJobDuration ?? DEFAULT_MAX_JOB_DURATION})` };
      }
      const heard = () => reported.has(waiting.jobId);
      const wait = silenceMs <= 0 ? { hinted: false, cancelTimer() {} } : lean ? await reportOrSilence(heard, Math.min(silenceMs, left)) : { hinted: await condition(heard, Math.min(silenceMs, left)), cancelTimer() {} };
      const { hinted } = wait;
      const said = reported.get(waiting.jobId);
      reported.delete(waiting.jobId);
      if (!hinted) carry.polls++;
      // Hume serves predictions of a completed job only, so fetching them is itself the check:
      // a COMPLETED callback saves the state request (one request fewer per job). Its timer is
      // left to lapse with the job; on any other path it would fire into a task of its own.
      if (hinted && said === 'COMPLETED' && !waiting.confirmFirst && (lean || patched(FETCH_ON_COMPLETED_CALLBACK))) {
        return { status: 'COMPLETED', fromCallback: true };
      }
      wait.cancelTimer();
      let snapshot: JobSnapshot;
      try {
        snapshot = await checkJob(waiting.jobId);
      } catch (err) {
        // A local activity's failure: an ApplicationFailure as thrown, or an ActivityFailure (timeouts); any but a cancellation.
        if (!(err instanceof TemporalFailure) || isCancellation(err)) throw err;
        status.checkFailures++;
        status.lastError = `cannot check Hume job ${waiting.jobId}: ${failureMessage(err)}`;
        silenceMs = outageWaitMs(silenceMs) * jitter(workflowId, carry.polls);
        continue;
      }
      status.humeStatus = snapshot.status;
      if (snapshot.status === 'COMPLETED' || snapshot.status === 'FAILED') return snapshot;
      if (!hinted) silenceMs = Math.min(Math.max(silenceMs * backoff, firstMs), maxSilenceMs) * jitter(workflowId, carry.polls);
    }
  }
}

/** Texts only, no artifacts, and not many of them: predictions a workflow task can wait for. */
function fewShortTexts(job: Pick<HumeJobInput, 'artifacts' | 'batch' | 'texts' | 'urls' | 'files'>): boolean {
  if (job.artifacts) return false;
  if (job.batch) {
    const { range } = job.batch;
    return range.urls === 0 && range.files === 0 && range.byteEnd - range.byteStart <= FETCH_HERE_MAX_TEXT;
  }
  if (job.urls?.length || job.files?.length) return false;
  return (job.texts ?? []).reduce((units, text) => units + text.length, 0) <= FETCH_HERE_MAX_TEXT;
}

const checkJob = (jobId: string) => humeCheckJob.executeWithOptions({ summary: SUMMARIES.check(jobId) }, [{ jobId }]);

/**
 * `hinted` once `heard()`, not after `ms` of silence, like `condition(heard, ms)`, but a report
 * leaves the timer running for the caller to cancel or not: a cancelled timer is an event, one
 * still pending when the job ends is none (it fires into a task only if the job outlives it).
 */
async function reportOrSilence(heard: () => boolean, ms: number): Promise<{ hinted: boolean; cancelTimer(): void }> {
  if (heard()) return { hinted: true, cancelTimer() {} };
  const timer = new CancellationScope();
  const silence = timer.run(() => sleep(ms)).then(() => false);
  // The wait for the report is cancelled when the silence wins: a condition costs no event.
  const listening = new CancellationScope();
  const report = listening.run(() => condition(heard)).then(() => true);
  const hinted = await Promise.race([report, silence]);
  if (!hinted) listening.cancel();
  return {
    hinted,
    cancelTimer: () => {
      if (hinted) timer.cancel();
    },
  };
}

/** Ours, or the ApplicationFailure inside an activity's failure (a local activity's application failure arrives as thrown). */
function applicationFailureOf(err: unknown): ApplicationFailure | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure ? cause : undefined;
}

function failureType(err: unknown): string | undefined {
  return applicationFailureOf(err)?.type ?? undefined;
}

const isNonRetryable = (err: unknown): boolean => applicationFailureOf(err)?.nonRetryable === true;

/** A failure Hume's answer decided (its HTTP refusals, src/hume/errors.ts), not this worker. */
const isHumeAnswer = (err: unknown): boolean => failureType(err)?.startsWith('HUME_') === true;
