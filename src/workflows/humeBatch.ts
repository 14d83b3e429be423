/**
 * `humeBatch`: a whole manifest to one results folder. Plans the manifest, starts one `humeJob`
 * child per batch within a sliding window, hears back from each child (its result, its report
 * signal — which carried children send once asked —, or a look-up of its state), pauses
 * itself when Hume refuses the account or batches keep failing, continues-as-new before its
 * history grows large, and writes the folder however it ends: completed, cancelled or failed.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  CancellationScope,
  CancelledFailure,
  ChildWorkflowFailure,
  condition,
  ContinueAsNew,
  makeContinueAsNewFunc,
  getExternalWorkflowHandle,
  isCancellation,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  setWorkflowOptions,
  sleep,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { z } from 'zod';
import type { HumeActivities } from '../activities/index.js';
import type { BatchState } from '../activities/supervise.js';
import { HumeBatchEntry } from '../schemas/batch.js';
import { describeIssues } from '../schemas/issues.js';
import { fromLegacy, MAX_JOBS_IN_FLIGHT, SetMaxJobsInFlight, SetOnCancel } from '../schemas/updates.js';
import {
  type BatchFinished,
  batchFinishedSignal,
  type BatchRange,
  FAILURE_TYPES,
  HUME_RUN_ID,
  HUME_RUN_STATE,
  type HumeBatchInput,
  type HumeBatchResult,
  pauseUpdate,
  type PlanResult,
  progressQuery,
  reportWhenDoneSignal,
  resumeUpdate,
  type RunState,
  setMaxJobsInFlightUpdate,
  setOnCancelUpdate,
} from './definitions.js';
import { humeJob } from './humeJob.js';
import { LEAN_BATCH } from './lean.js';
import { failureMessage } from './failure-message.js';
import { parseWorkflowInput } from './input.js';
import { runDetails } from './run-details.js';
import { batchSummary, SUMMARIES } from './summaries.js';
import { continueAsNewSuggested, currentBuild, newBuildIsCurrent, pinnedWhenVersioned } from './versioning.js';
import { type InFlightBatch, planningProgress, type RunCarry, type RunSettings, RunTracker } from './run-tracker.js';

const DEFAULT_MAX_JOBS_IN_FLIGHT = 100;
const PLAN_PAGE_SIZE = 200;
// Well under Temporal's per-run caps (10,000 signals, 2,000 pending children), whatever the
// server's own continue-as-new suggestion says.
const MAX_SIGNALS_PER_RUN = 5_000;
const MAX_CHILDREN_PER_RUN = 1_000;
/** Children carried across continue-as-new are looked up at once, then at growing intervals. */
export const SUPERVISE_FIRST_WAIT_MS = 30_000;
const SUPERVISE_MAX_WAIT_MS = 5 * 60_000;
/**
 * Supervision looks up only batches whose start has resolved: one marked in flight a moment
 * before its child exists was found missing and failed (seen with two workflow threads). Decided
 * only when a start is pending at a look-up, so a run that never meets one records no marker.
 */
const SETTLE_STARTED_ONLY = 'settle-started-batches-only';
/**
 * An update answered in the task that continues as new is lost with that task when the server
 * refuses it for an event that arrived meanwhile (UNHANDLED_COMMAND aborts the update, and the
 * caller gets "unexpected workflow task failure"): such a run first answers in a task of its own.
 * Decided only then, so a run that never meets it records no marker.
 */
const ANSWER_BEFORE_CONTINUING = 'answer-updates-before-continuing';
/** So a client sending updates without pause cannot hold a run back from continuing for ever. */
const MAX_ANSWER_DEFERRALS = 10;
/** How long stopped children get to record their outcome before the folder is written anyway. */
const STOP_GRACE = '1 minute';
/** Finalize is tried again on failure (a full disk, a lost mount), then the run fails. */
const FINALIZE_RETRY_DELAYS_MS = [5_000, 60_000];

// Pinned: a run's tasks stay on the code that started it, so a deploy never replays it on other
// code. Its next run (continue-as-new) starts on the current version: a long run moves forward
// there, and only there.
setWorkflowOptions(pinnedWhenVersioned, humeBatch);
type ContinuedInput = HumeBatchInput & { continuation?: RunCarry };
const continueOnLatestVersion = (input: ContinuedInput) =>
  makeContinueAsNewFunc<(input: ContinuedInput) => Promise<HumeBatchResult>>({ initialVersioningBehavior: 'AUTO_UPGRADE' })(input);

const retry = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' } as const;
const { humePlanManifest, humePlanRedrive, humeFinalizeRun } = proxyActivities<HumeActivities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '1 minute',
  retry,
});
const { humeReadPlan } = proxyActivities<HumeActivities>({ startToCloseTimeout: '1 minute', retry });
const { humeSettleBatches } = proxyActivities<HumeActivities>({ startToCloseTimeout: '10 minutes', retry });

export async function humeBatch(input: HumeBatchInput): Promise<HumeBatchResult>;
// The run's own state rides in its input when it continues as new (never set by callers). Runs
// continued by versions before 0.2 got it as a second argument: their histories still replay.
export async function humeBatch(given: ContinuedInput, legacyCarried?: RunCarry): Promise<HumeBatchResult> {
  const { continuation, ...input } = given;
  const carried = continuation ?? legacyCarried;
  parseWorkflowInput(HumeBatchEntry, input, 'humeBatch');
  const info = workflowInfo();
  // Handlers come first, so a pause or resize sent while the manifest is being planned is kept.
  const early = { paused: false, maxJobsInFlight: Math.min(input.maxJobsInFlight ?? DEFAULT_MAX_JOBS_IN_FLIGHT, MAX_JOBS_IN_FLIGHT) };
  let tracker: RunTracker | undefined = carried && new RunTracker(carried);
  const control = () => tracker?.carry ?? early;
  const progress = () => (tracker ? tracker.progress(Date.now()) : planningProgress(runFolderOf(input), info.startTime.getTime(), early));
  let signalsThisRun = 0;
  let childrenThisRun = 0;
  /** The workflow task (by history length) in which an update was last answered: they answer at once, never awaiting. */
  let answeredAt = -1;
  let deferrals = 0;
  const answering = <A extends unknown[], R>(handler: (...args: A) => R) => (...args: A): R => {
    answeredAt = workflowInfo().historyLength;
    return handler(...args);
  };
  /** Batches whose child this run started, so it hears of their end from the handle. */
  const awaited = new Set<number>();
  /** Batches marked in flight whose child's start has not resolved yet: not there to look up. */
  const startsPending = new Set<number>();
  let publishedState: RunState | undefined;
  /** Set by the input, or later by the `setOnCancel` update (`cancel --abandon`). */
  let onCancel = input.onCancel;

  /** The run's state in the Temporal UI: current details always, the search attribute when asked for. */
  const publish = () => {
    const p = progress();
    setCurrentDetails(runDetails(p));
    if (input.searchAttributes && p.state !== publishedState && p.state !== 'planning') {
      upsertSearchAttributes([{ key: HUME_RUN_STATE, value: p.state }]);
      publishedState = p.state;
    }
  };
  const apply = (report: BatchFinished) => {
    tracker?.finish(report);
    publish();
  };

  setHandler(progressQuery, progress, { description: 'Where the run stands: state, items and batches done, jobs in flight, why it is paused, recent failures.' });
  setHandler(batchFinishedSignal, (report) => {
    signalsThisRun++;
    apply(report);
  }, { description: "Sent by a batch's humeJob child when it ends (completed, failed or blocked); a stale report changes nothing." });
  setHandler(pauseUpdate, answering(() => {
    control().paused = true;
    publish();
    return progress();
  }), { description: 'Starts no new batch until resumed; batches in flight finish. Returns the progress.' });
  setHandler(resumeUpdate, answering(() => {
    if (tracker) tracker.resume();
    else early.paused = false;
    publish();
    return progress();
  }), { description: 'Starts batches again after a pause (by request or by the run itself). Returns the progress.' });
  setHandler(
    setOnCancelUpdate,
    answering((arg) => {
      onCancel = SetOnCancel.parse(fromLegacy('onCancel', arg)).onCancel;
      return progress();
    }),
    {
      validator: (arg) => void parseUpdate(SetOnCancel, fromLegacy('onCancel', arg)),
      description: "What cancelling the run does to its jobs in flight: `{ onCancel: 'wait' }` lets them finish, `'abandon'` cancels them (also ends a drain under way).",
    },
  );
  setHandler(
    setMaxJobsInFlightUpdate,
    answering((arg) => {
      control().maxJobsInFlight = SetMaxJobsInFlight.parse(fromLegacy('maxJobsInFlight', arg)).maxJobsInFlight;
      return progress();
    }),
    {
      validator: (arg) => void parseUpdate(SetMaxJobsInFlight, fromLegacy('maxJobsInFlight', arg)),
      description: `Resizes the window of Hume jobs in flight: \`{ maxJobsInFlight: n }\`, 1 to ${MAX_JOBS_IN_FLIGHT}. Returns the progress.`,
    },
  );

  if (!carried && input.searchAttributes) upsertSearchAttributes([{ key: HUME_RUN_ID, value: runFolderOf(input).runId }]);
  setCurrentDetails(runDetails(progress()));
  tracker ??= new RunTracker({ ...(await plan(input)), ...early });
  const run = tracker;
  const carry = run.carry;
  publish();
  // Children of earlier runs report by signal (once asked, below); one that ended silently (terminated) is found here.
  let supervising = false;
  const superviseUnawaited = () => {
    if (supervising) return;
    supervising = true;
    void CancellationScope.nonCancellable(superviseCarried).catch(() => undefined).finally(() => (supervising = false));
  };
  if (run.inFlightCount > 0) superviseUnawaited();
  // Lean children report their completion only when asked: this run did not start them, so it asks.
  if (carried) for (const batch of Object.values(carry.inFlight)) askToReport(batch);

  // A new worker deployment version made current is a reason too: the run moves to it at once.
  const movesToNewBuild = () => newBuildIsCurrent(carry.leftBuild);
  const shouldContinueAsNew = () =>
    continueAsNewSuggested() || movesToNewBuild() || signalsThisRun >= MAX_SIGNALS_PER_RUN || childrenThisRun >= MAX_CHILDREN_PER_RUN;
  const page: BatchRange[] = [];

  let state: HumeBatchResult['state'] = 'completed';
  let cancellation: unknown;
  try {
    while (!run.finished) {
      await condition(() => run.hasRoom || run.finished || shouldContinueAsNew());
      if (shouldContinueAsNew() && !run.finished) {
        // Children report by workflow id, so the next run, asking them, hears from those still in flight.
        await condition(allHandlersFinished);
        if (answeredAt === workflowInfo().historyLength && deferrals < MAX_ANSWER_DEFERRALS && patched(ANSWER_BEFORE_CONTINUING)) {
          deferrals++;
          // On to the next task: a 1 ms timer's, or sooner an update's or a signal's. The timer
          // alone is not enough: the server fires none while updates keep the run busy.
          const deferredAt = answeredAt;
          await condition(() => workflowInfo().historyLength !== deferredAt, 1);
          continue;
        }
        carry.continuedAsNew++;
        carry.leftBuild = movesToNewBuild() ? currentBuild() : undefined;
        await continueOnLatestVersion({ ...input, continuation: carry });
      }
      // Every batch that fits starts in this one workflow task: a start per task would cost a
      // round trip to the server each and the window would never fill.
      const starting: Array<Promise<void>> = [];
      while (run.hasRoom && !shouldContinueAsNew()) {
        const batch = await nextBatch();
        run.started(batch);
        childrenThisRun++;
        starting.push(startBatch(batch));
      }
      await Promise.all(starting);
      publish();
    }
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    if (isCancellation(err)) {
      state = 'cancelled';
      cancellation = err;
      await CancellationScope.nonCancellable(() => drainAfterCancel());
    } else {
      // The run cannot go on, but what it did is kept: stop its children, write the folder, fail.
      state = 'failed';
      carry.error = failureMessage(err);
      await CancellationScope.nonCancellable(() => stopInFlight());
    }
  }

  const { settings } = carry;
  const tooManyFailed = state === 'completed' && run.failedPercent() > (settings.maxFailedItemsPercent ?? 100);
  // A run in which nothing succeeded is not a success, whatever the threshold.
  const allFailed = state === 'completed' && carry.plan.validItems > 0 && carry.items.failed === carry.plan.validItems;
  if (tooManyFailed || allFailed) state = 'failed';
  run.state = 'finalizing';
  publish();
  const summary = await CancellationScope.nonCancellable(() => finalize(state));
  run.state = state;
  publish();
  const result: HumeBatchResult = { runId: carry.runId, runDir: carry.runDir, state, summary };
  if (state === 'failed') {
    const last = carry.failures.at(-1)?.error;
    const why = tooManyFailed
      ? `${run.failedPercent().toFixed(1)}% of items failed, over maxFailedItemsPercent=${settings.maxFailedItemsPercent}`
      : allFailed
        ? `every item failed (last: ${last ?? 'unknown error'}); fix the cause, then redrive`
        : `${carry.error}; what did not complete can be redriven`;
    throw ApplicationFailure.nonRetryable(`run ${carry.runId}: ${why}; results in ${carry.runDir}`, FAILURE_TYPES.runFailed, result);
  }
  // The run ends as cancelled in Temporal; what it finished is in the folder and summary.json.
  if (cancellation) throw cancellation;
  return result;

  /** The next batch to start: one waiting to run again after a pause, else the plan's next. */
  async function nextBatch(): Promise<InFlightBatch> {
    const again = run.nextRequeued;
    if (again) return { ...again, workflowId: childId(again.range.index, again.generation), items: again.range.items };
    if (page.length === 0) page.push(...(await humeReadPlan.executeWithOptions({ summary: SUMMARIES.readPlan(carry.cursor) }, [{ planPath: carry.plan.planPath, offset: carry.cursor, limit: PLAN_PAGE_SIZE }])));
    const range = page.shift();
    if (!range) throw ApplicationFailure.nonRetryable(`plan ${carry.plan.planPath} ends before its batch #${carry.cursor + 1}`);
    return { range, generation: 0, workflowId: childId(range.index, 0), items: range.items };
  }

  /** A batch run again after a pause gets a new child (the old one ended): `batch-<n>.<generation>`. */
  function childId(index: number, generation: number): string {
    return `${info.workflowId}/batch-${index}${generation > 0 ? `.${generation}` : ''}`;
  }

  function batchSource(range: BatchRange) {
    return { runDir: carry.runDir, manifest: carry.plan.manifest, range, allowedRoot: carry.settings.allowedRoot, runChainId: info.firstExecutionRunId };
  }

  async function startChildFor(batch: InFlightBatch): Promise<void> {
    const { range, workflowId } = batch;
    const s = carry.settings;
    // Started outside the run's cancellation scope: cancelling the run must not cancel its jobs
    // (they finish and report, or are cancelled on purpose with onCancel: 'abandon').
    const child = await CancellationScope.nonCancellable(() => startChild(humeJob, {
      workflowId,
      staticSummary: batchSummary(range),
      staticDetails: `Batch ${range.index} of run \`${carry.runId}\`; its predictions go to \`${carry.runDir}\`.`,
      args: [
        {
          batch: batchSource(range),
          config: s.config,
          artifacts: s.artifacts,
          maxJobAttempts: s.maxJobAttempts,
          maxJobDuration: s.maxJobDuration,
          resubmitDelay: s.resubmitDelay,
          polling: s.polling,
          searchAttributes: s.searchAttributes,
        },
      ],
      ...(s.searchAttributes ? { typedSearchAttributes: [{ key: HUME_RUN_ID, value: carry.runId }] } : {}),
      // Children outlive this run (continue-as-new) and report back by signal.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      memo: { runId: carry.runId, batch: range.index, items: range.items },
    }));
    awaited.add(range.index);
    startsPending.delete(range.index);
    // Its close tells this run (a failed child's report signal, with its Hume job ids, may come first).
    child.result().then(
      (done) => apply({ batch: range.index, workflowId, status: 'completed', jobIds: done.jobIds, items: done.batchItems ?? { completed: 0, failed: 0 } }),
      (err: unknown) => childEnded(batch, err),
    );
  }

  /** How a child that did not complete ended, turned into its batch's report. */
  async function childEnded(batch: InFlightBatch, err: unknown): Promise<void> {
    const cause = err instanceof ChildWorkflowFailure ? err.cause : err;
    const failed = (error: string, jobIds: string[] = []): BatchFinished =>
      ({ batch: batch.range.index, workflowId: batch.workflowId, status: 'failed', jobIds, items: { completed: 0, failed: batch.items }, error });
    if (cause instanceof ApplicationFailure) {
      const jobIds = (cause.details?.[0] as { jobIds?: string[] } | undefined)?.jobIds ?? [];
      const report = failed(cause.message, jobIds);
      apply(cause.type === FAILURE_TYPES.accountBlocked ? { ...report, status: 'blocked', items: { completed: 0, failed: 0 } } : report);
    } else if (cause instanceof CancelledFailure) {
      apply(failed('cancelled'));
    } else {
      // Terminated or timed out: the child never ran its own failure path.
      await settle([batch]).catch(() => undefined);
    }
  }

  /** Looks batches up in Temporal and applies what ended; a batch still running stays in flight. */
  async function settle(batches: InFlightBatch[]): Promise<void> {
    const states = await humeSettleBatches.executeWithOptions({ summary: SUMMARIES.settle(batches.length) }, [{
      runId: carry.runId,
      batches: batches.map((b) => ({ workflowId: b.workflowId, batch: batchSource(b.range) })),
      config: carry.settings.config,
    }]);
    for (const s of states) {
      const report = reportOf(s, carry.inFlight[s.batch]?.items ?? 0);
      if (report) apply(report);
      // Still running (a new run of it, say): watched from here on, since no handle will tell, and asked to report.
      else if (awaited.delete(s.batch) && carry.inFlight[s.batch]) askToReport(carry.inFlight[s.batch]!);
    }
    if (batches.some((b) => carry.inFlight[b.range.index] && !awaited.has(b.range.index))) superviseUnawaited();
  }

  /**
   * Asks a batch this run did not start to report when done (runs recorded before the patch do
   * not); one already ended is looked up. Not cancellable, not awaited.
   */
  function askToReport(batch: InFlightBatch): void {
    if (!patched(LEAN_BATCH)) return;
    void CancellationScope.nonCancellable(async () => {
      try {
        await getExternalWorkflowHandle(batch.workflowId).signal(reportWhenDoneSignal);
      } catch {
        // Unless supervision's first look has settled it meanwhile.
        if (carry.inFlight[batch.range.index]?.workflowId === batch.workflowId) await settle([batch]).catch(() => undefined);
      }
    });
  }

  /** Supervises the children this run cannot await, until none is left in flight. */
  async function superviseCarried(): Promise<void> {
    for (let waitMs = 0; ; waitMs = Math.min(Math.max(waitMs * 2, SUPERVISE_FIRST_WAIT_MS), SUPERVISE_MAX_WAIT_MS)) {
      if (waitMs > 0) await sleep(waitMs);
      const unawaited = Object.values(carry.inFlight).filter((b) => !awaited.has(b.range.index));
      const started = unawaited.filter((b) => !startsPending.has(b.range.index));
      // Runs recorded before the patch looked up every unawaited batch.
      const carriedOver = started.length < unawaited.length && !patched(SETTLE_STARTED_ONLY) ? unawaited : started;
      if (carriedOver.length === 0) return;
      await settle(carriedOver);
    }
  }

  /**
   * Starts a batch's child. Its id may be taken by the batch's own child, still running — after
   * this run was reset, say: then that child is supervised as it is. Taken by anything else, the
   * run ends with a message, not a retried task.
   */
  async function startBatch(batch: InFlightBatch): Promise<void> {
    startsPending.add(batch.range.index);
    try {
      await startChildFor(batch);
    } catch (err) {
      startsPending.delete(batch.range.index);
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        const [found] = await humeSettleBatches.executeWithOptions({ summary: SUMMARIES.settle(1) }, [{ runId: carry.runId, batches: [{ workflowId: batch.workflowId, batch: batchSource(batch.range) }] }]);
        if (found?.state === 'running' && found.ours) {
          // Its start is not in this run's history (a reset run, say): it reports once asked.
          askToReport(batch);
          return superviseUnawaited();
        }
        if (found && found.state !== 'running') {
          // It ended between the refusal and the look-up: its report is as good as a start.
          const report = reportOf(found, batch.items);
          if (report) apply(report);
          return;
        }
      }
      // It never started: nothing to wait for, its items are not run.
      run.notStarted(batch);
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      throw ApplicationFailure.nonRetryable(
        `batch ${batch.range.index} cannot start, ${batch.workflowId} is still running (a run with the same run id?)`,
        FAILURE_TYPES.batchAlreadyRunning,
      );
    }
  }

  async function drainAfterCancel(): Promise<void> {
    const abandon = () => (onCancel ?? carry.settings.onCancel) === 'abandon';
    if (!abandon()) {
      run.state = 'draining';
      publish();
      // Waits for the jobs in flight, unless told to abandon them meanwhile.
      await condition(() => run.inFlightCount === 0 || abandon());
    }
    if (run.inFlightCount > 0) await stopInFlight();
  }

  /** Cancels every child in flight and gives them a moment to record their outcome (and their Hume job ids). */
  async function stopInFlight(): Promise<void> {
    run.state = 'draining';
    publish();
    await Promise.all(Object.values(carry.inFlight).map(({ workflowId }) => getExternalWorkflowHandle(workflowId).cancel().catch(() => undefined)));
    await condition(() => run.inFlightCount === 0, STOP_GRACE);
  }

  /** Writes the folder; tried again after a pause when it fails, since everything else is done. */
  async function finalize(final: HumeBatchResult['state']) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await humeFinalizeRun.executeWithOptions({ summary: SUMMARIES.finalize(final) }, [{
          runDir: carry.runDir,
          runId: carry.runId,
          plan: { ...carry.plan, planPath: carry.finalizePlanPath, invalid: [] },
          validation: { config: carry.settings.config ?? {}, allowedRoot: carry.settings.allowedRoot },
          run: {
            input: carry.recordedInput,
            startedAt: carry.startedAt,
            finishedAt: Date.now(),
            state: final,
            ...(carry.error ? { error: carry.error } : {}),
            humeJobsCreated: carry.humeJobsCreated,
            resubmissions: carry.resubmissions,
            workflowId: info.workflowId,
            redrive: input.redrive ?? false,
          },
        }]);
      } catch (err) {
        const delay = FINALIZE_RETRY_DELAYS_MS[attempt];
        const message = `cannot write the results folder ${carry.runDir}: ${failureMessage(err)}`;
        if (delay === undefined) throw ApplicationFailure.nonRetryable(`run ${carry.runId}: ${message}`, FAILURE_TYPES.runFailed);
        setCurrentDetails(`${runDetails(progress())}\n\nFinalize failed, tried again in ${delay / 1000} s: ${message}`);
        await sleep(delay);
      }
    }
  }
}

/** An update's argument checked by its validator: a bad one is refused with the field named, never recorded. */
function parseUpdate<S extends z.ZodType>(schema: S, arg: unknown): void {
  const parsed = schema.safeParse(arg);
  if (!parsed.success) throw new RangeError(describeIssues(parsed.error));
}

/** A looked-up batch state as the report its child would have sent; none while it runs. */
function reportOf(s: BatchState, items: number): BatchFinished | undefined {
  if (s.state === 'running') return undefined;
  const base = { batch: s.batch, workflowId: s.workflowId, jobIds: s.jobIds };
  if (s.state === 'completed') return { ...base, status: 'completed', items: s.items };
  // A blocked batch did not run: its items are neither done nor failed.
  return { ...base, status: s.state, items: { completed: 0, failed: s.state === 'failed' ? items : 0 }, error: s.error };
}

function runFolderOf(input: HumeBatchInput): { runId: string; runDir: string } {
  const runId = input.runId ?? workflowInfo().workflowId.replace(/[^A-Za-z0-9._-]/g, '_');
  return { runId, runDir: `${input.outDir.replace(/\/+$/, '')}/${runId}` };
}

async function plan(input: HumeBatchInput): Promise<Omit<RunCarry, 'paused' | 'maxJobsInFlight'>> {
  const startedAt = Date.now();
  const { runId, runDir } = runFolderOf(input);
  let planned: PlanResult;
  let settings: RunSettings = input;
  let recordedInput: Record<string, unknown> = { ...input, items: input.items ? `${input.items.length} inline items` : undefined };
  let finalizePlanPath: string;
  if (input.redrive) {
    const redrive = await humePlanRedrive.executeWithOptions({ summary: SUMMARIES.planRedrive }, [{ runDir, name: `redrive-${workflowInfo().runId}` }]);
    if (redrive.plan.batches === 0) {
      // Said, and nothing written: the folder stays exactly as its last run left it.
      throw ApplicationFailure.nonRetryable(
        `run ${runId} has nothing to redrive: no item failed or was left not run (invalid lines are not redriven: fix the manifest and start a new run)`,
        FAILURE_TYPES.nothingToRedrive,
      );
    }
    planned = redrive.plan;
    settings = redrive.originalInput as RunSettings;
    recordedInput = { ...redrive.originalInput, redrives: [...asArray(redrive.originalInput.redrives), workflowInfo().workflowId] };
    finalizePlanPath = redrive.originalPlanPath;
  } else {
    planned = await humePlanManifest.executeWithOptions({ summary: SUMMARIES.plan }, [{
      runDir,
      manifest: input.manifest,
      items: input.items,
      config: input.config ?? {},
      limits: input.limits,
      allowedRoot: input.allowedRoot,
      skipInvalid: input.skipInvalid,
      // The folder belongs to this run (its first run id survives continue-as-new and reset).
      owner: { workflowId: workflowInfo().workflowId, firstExecutionRunId: workflowInfo().firstExecutionRunId },
    }]);
    finalizePlanPath = planned.planPath;
  }
  const { invalid: _invalid, ...withoutInvalid } = planned;
  return {
    runId,
    runDir,
    startedAt,
    settings: pickSettings(settings),
    recordedInput,
    finalizePlanPath,
    plan: withoutInvalid,
    cursor: 0,
    inFlight: {},
    pendingItems: withoutInvalid.validItems,
    items: { completed: 0, failed: 0 },
    jobs: { completed: 0, failed: 0 },
    humeJobsCreated: 0,
    resubmissions: 0,
    failures: [],
    failedInARow: 0,
    requeued: [],
    continuedAsNew: 0,
  };
}

function pickSettings(s: RunSettings): RunSettings {
  const { config, artifacts, maxJobAttempts, polling, allowedRoot, maxFailedItemsPercent, onCancel, searchAttributes } = s;
  const { maxJobDuration, resubmitDelay, pauseAfterFailedBatches } = s;
  return { config, artifacts, maxJobAttempts, polling, allowedRoot, maxFailedItemsPercent, onCancel, searchAttributes, maxJobDuration, resubmitDelay, pauseAfterFailedBatches };
}

const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
