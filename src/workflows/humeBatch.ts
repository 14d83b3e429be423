/**
 * `humeBatch`: a whole manifest to one results folder. Plans the manifest, starts one `humeJob`
 * child per batch within a sliding window, hears back from each child by signal, continues-as-new
 * before its history grows large, and finalizes the folder even when cancelled.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { HumeActivities } from '../activities/index.js';
import {
  batchFinishedSignal,
  type BatchRange,
  HUME_RUN_ID,
  type HumeBatchInput,
  type HumeBatchResult,
  pauseUpdate,
  type PlanResult,
  progressQuery,
  resumeUpdate,
  setMaxJobsInFlightUpdate,
} from './definitions.js';
import { humeJob } from './humeJob.js';
import { planningProgress, type RunCarry, type RunSettings, RunTracker } from './run-tracker.js';

const DEFAULT_MAX_JOBS_IN_FLIGHT = 100;
/** Hume queues at most 500 jobs per account. */
const MAX_JOBS_IN_FLIGHT = 500;
const PLAN_PAGE_SIZE = 200;
// Well under Temporal's per-run caps (10,000 signals, 2,000 pending children), whatever the
// server's own continue-as-new suggestion says.
const MAX_SIGNALS_PER_RUN = 5_000;
const MAX_CHILDREN_PER_RUN = 1_000;

const retry = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' } as const;
const { humePlanManifest, humePlanRedrive, humeFinalizeRun } = proxyActivities<HumeActivities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '1 minute',
  retry,
});
const { humeReadPlan } = proxyActivities<HumeActivities>({ startToCloseTimeout: '1 minute', retry });

export async function humeBatch(input: HumeBatchInput, carried?: RunCarry): Promise<HumeBatchResult> {
  const info = workflowInfo();
  // Handlers come first, so a pause or resize sent while the manifest is being planned is kept.
  const early = { paused: false, maxJobsInFlight: Math.min(input.maxJobsInFlight ?? DEFAULT_MAX_JOBS_IN_FLIGHT, MAX_JOBS_IN_FLIGHT) };
  let tracker: RunTracker | undefined = carried && new RunTracker(carried);
  const control = () => tracker?.carry ?? early;
  const progress = () => (tracker ? tracker.progress(Date.now()) : planningProgress(runFolderOf(input), info.startTime.getTime(), early));
  let signalsThisRun = 0;
  let childrenThisRun = 0;

  setHandler(progressQuery, progress);
  setHandler(batchFinishedSignal, (report) => {
    signalsThisRun++;
    tracker?.finish(report);
  });
  setHandler(pauseUpdate, () => {
    control().paused = true;
    return progress();
  });
  setHandler(resumeUpdate, () => {
    control().paused = false;
    return progress();
  });
  setHandler(
    setMaxJobsInFlightUpdate,
    (max) => {
      control().maxJobsInFlight = max;
      return progress();
    },
    {
      validator: (max) => {
        if (!Number.isInteger(max) || max < 1 || max > MAX_JOBS_IN_FLIGHT) {
          throw new RangeError(`maxJobsInFlight must be an integer from 1 to ${MAX_JOBS_IN_FLIGHT}, got ${max}`);
        }
      },
    },
  );

  if (!carried && input.searchAttributes) upsertSearchAttributes([{ key: HUME_RUN_ID, value: runFolderOf(input).runId }]);
  tracker ??= new RunTracker({ ...(await plan(input)), ...early });
  const run = tracker;
  const carry = run.carry;

  const shouldContinueAsNew = () =>
    workflowInfo().continueAsNewSuggested || signalsThisRun >= MAX_SIGNALS_PER_RUN || childrenThisRun >= MAX_CHILDREN_PER_RUN;
  const page: BatchRange[] = [];

  let state: HumeBatchResult['state'] = 'completed';
  let cancellation: unknown;
  try {
    while (!run.finished) {
      await condition(() => run.hasRoom || run.finished || shouldContinueAsNew());
      if (shouldContinueAsNew() && !run.finished) {
        // Children report by workflow id, so the next run hears from those still in flight.
        await condition(allHandlersFinished);
        carry.continuedAsNew++;
        await continueAsNew<typeof humeBatch>(input, carry);
      }
      // Every batch that fits starts in this one workflow task: a start per task would cost a
      // round trip to the server each and the window would never fill.
      const starting: Array<Promise<void>> = [];
      while (run.hasRoom && !shouldContinueAsNew()) {
        if (page.length === 0) page.push(...(await humeReadPlan({ planPath: carry.plan.planPath, offset: carry.cursor, limit: PLAN_PAGE_SIZE })));
        const range = page.shift();
        if (!range) throw ApplicationFailure.nonRetryable(`plan ${carry.plan.planPath} ends before its batch #${carry.cursor + 1}`);
        const workflowId = `${info.workflowId}/batch-${range.index}`;
        run.started(range.index, { workflowId, items: range.items });
        childrenThisRun++;
        starting.push(startBatch(range, workflowId));
      }
      await Promise.all(starting);
    }
  } catch (err) {
    if (!isCancellation(err)) throw err;
    state = 'cancelled';
    cancellation = err;
    await CancellationScope.nonCancellable(() => drainAfterCancel());
  }

  const { settings } = carry;
  if (state === 'completed' && run.failedPercent() > (settings.maxFailedItemsPercent ?? 100)) state = 'failed';
  run.state = 'finalizing';
  const summary = await CancellationScope.nonCancellable(() =>
    humeFinalizeRun({
      runDir: carry.runDir,
      runId: carry.runId,
      plan: { ...carry.plan, planPath: carry.finalizePlanPath, invalid: [] },
      validation: { config: settings.config ?? {}, allowedRoot: settings.allowedRoot },
      run: {
        input: carry.recordedInput,
        startedAt: carry.startedAt,
        finishedAt: Date.now(),
        state,
        humeJobsCreated: carry.humeJobsCreated,
        resubmissions: carry.resubmissions,
      },
    }),
  );
  run.state = state;
  const result: HumeBatchResult = { runId: carry.runId, runDir: carry.runDir, state, summary };
  if (state === 'failed') {
    throw ApplicationFailure.nonRetryable(
      `run ${carry.runId}: ${run.failedPercent().toFixed(1)}% of items failed, over maxFailedItemsPercent=${settings.maxFailedItemsPercent}; results in ${carry.runDir}`,
      'RUN_FAILED',
      result,
    );
  }
  // The run ends as cancelled in Temporal; what it finished is in the folder and summary.json.
  if (cancellation) throw cancellation;
  return result;

  async function startChildFor(range: BatchRange, workflowId: string): Promise<void> {
    // Started outside the run's cancellation scope: cancelling the run must not cancel its jobs
    // (they finish and report, or are cancelled on purpose with onCancel: 'abandon').
    const child = await CancellationScope.nonCancellable(() => startChild(humeJob, {
      workflowId,
      args: [
        {
          batch: { runDir: carry.runDir, manifest: carry.plan.manifest, range, allowedRoot: carry.settings.allowedRoot },
          config: carry.settings.config,
          artifacts: carry.settings.artifacts,
          maxJobAttempts: carry.settings.maxJobAttempts,
          polling: carry.settings.polling,
          searchAttributes: carry.settings.searchAttributes,
        },
      ],
      ...(carry.settings.searchAttributes ? { typedSearchAttributes: [{ key: HUME_RUN_ID, value: carry.runId }] } : {}),
      // Children outlive this run (continue-as-new) and report back by signal.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      memo: { runId: carry.runId, batch: range.index, items: range.items },
    }));
    // Failures arrive as reports; the handle's own promise must not go unhandled.
    child.result().catch(() => undefined);
  }

  /** A start refused because the id is taken ends the run with a message, not a retried task. */
  async function startBatch(range: BatchRange, workflowId: string): Promise<void> {
    try {
      await startChildFor(range, workflowId);
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      throw ApplicationFailure.nonRetryable(
        `run ${carry.runId}: batch ${range.index} cannot start, ${workflowId} is still running (a run with the same run id?)`,
        'BATCH_ALREADY_RUNNING',
      );
    }
  }

  async function drainAfterCancel(): Promise<void> {
    run.state = 'draining';
    if (carry.settings.onCancel === 'abandon') {
      for (const { workflowId } of Object.values(carry.inFlight)) {
        await getExternalWorkflowHandle(workflowId).cancel().catch(() => undefined);
      }
      return;
    }
    await condition(() => run.inFlightCount === 0);
  }
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
    const redrive = await humePlanRedrive({ runDir, name: `redrive-${workflowInfo().runId}` });
    planned = redrive.plan;
    settings = redrive.originalInput as RunSettings;
    recordedInput = { ...redrive.originalInput, redrives: [...asArray(redrive.originalInput.redrives), workflowInfo().workflowId] };
    finalizePlanPath = redrive.originalPlanPath;
  } else {
    planned = await humePlanManifest({
      runDir,
      manifest: input.manifest,
      items: input.items,
      config: input.config ?? {},
      limits: input.limits,
      allowedRoot: input.allowedRoot,
      skipInvalid: input.skipInvalid,
    });
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
    continuedAsNew: 0,
  };
}

function pickSettings(s: RunSettings): RunSettings {
  const { config, artifacts, maxJobAttempts, polling, allowedRoot, maxFailedItemsPercent, onCancel, searchAttributes } = s;
  return { config, artifacts, maxJobAttempts, polling, allowedRoot, maxFailedItemsPercent, onCancel, searchAttributes };
}

const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
