/**
 * The state of a `humeBatch` run that survives continue-as-new: cursor, in-flight batches,
 * counters. A plain class the workflow drives, so the workflow itself stays a thin loop.
 */
import type { BatchFinished, HumeBatchInput, PlanResult, RunProgress, RunState } from './definitions.js';

const MAX_FAILURES_KEPT = 20;

export interface InFlightBatch {
  workflowId: string;
  items: number;
}

/** The run's settings: the input's, or for a redrive the original run's. */
export type RunSettings = Pick<
  HumeBatchInput,
  'config' | 'artifacts' | 'maxJobAttempts' | 'polling' | 'allowedRoot' | 'maxFailedItemsPercent' | 'onCancel' | 'searchAttributes'
>;

/** Everything carried to the next run. Plain data: it travels as the continue-as-new argument. */
export interface RunCarry {
  runId: string;
  runDir: string;
  settings: RunSettings;
  /** What run.json records as the run's input (no inline items, no secrets). */
  recordedInput: Record<string, unknown>;
  /** The plan finalize follows: the original one, also for a redrive (which runs a subset). */
  finalizePlanPath: string;
  startedAt: number;
  /** The plan without its list of invalid lines (that stays in the results folder). */
  plan: Omit<PlanResult, 'invalid'>;
  /** Batches of the plan started so far: the next one is the plan's line `cursor` (a redrive's plan skips batch numbers). */
  cursor: number;
  inFlight: Record<number, InFlightBatch>;
  /** Items of batches not yet started. */
  pendingItems: number;
  items: { completed: number; failed: number };
  jobs: { completed: number; failed: number };
  humeJobsCreated: number;
  resubmissions: number;
  failures: Array<{ batch: number; error: string }>;
  paused: boolean;
  maxJobsInFlight: number;
  continuedAsNew: number;
}

export class RunTracker {
  state: RunState = 'running';

  constructor(readonly carry: RunCarry) {}

  get inFlightCount(): number {
    return Object.keys(this.carry.inFlight).length;
  }

  get allStarted(): boolean {
    return this.carry.cursor >= this.carry.plan.batches;
  }

  get finished(): boolean {
    return this.allStarted && this.inFlightCount === 0;
  }

  get hasRoom(): boolean {
    return !this.carry.paused && !this.allStarted && this.inFlightCount < this.carry.maxJobsInFlight;
  }

  started(batch: number, inFlight: InFlightBatch): void {
    this.carry.inFlight[batch] = inFlight;
    this.carry.pendingItems -= inFlight.items;
    this.carry.cursor++;
  }

  /** Applies a child's report; a report for a batch not in flight (a duplicate) changes nothing. */
  finish(report: BatchFinished): void {
    const batch = this.carry.inFlight[report.batch];
    if (!batch) return;
    delete this.carry.inFlight[report.batch];
    const c = this.carry;
    c.items.completed += report.items.completed;
    c.items.failed += report.items.failed;
    c.humeJobsCreated += report.jobIds.length;
    c.resubmissions += Math.max(0, report.jobIds.length - 1);
    if (report.status === 'completed') c.jobs.completed++;
    else {
      c.jobs.failed++;
      c.failures.push({ batch: report.batch, error: report.error ?? 'unknown error' });
      if (c.failures.length > MAX_FAILURES_KEPT) c.failures.shift();
    }
  }

  failedPercent(): number {
    const { validItems } = this.carry.plan;
    return validItems === 0 ? 0 : (this.carry.items.failed / validItems) * 100;
  }

  progress(now: number): RunProgress {
    const c = this.carry;
    const inFlightItems = Object.values(c.inFlight).reduce((sum, b) => sum + b.items, 0);
    const done = c.items.completed + c.items.failed;
    const elapsedMs = Math.max(0, now - c.startedAt);
    const itemsPerSecond = elapsedMs > 0 ? done / (elapsedMs / 1000) : 0;
    const remaining = c.plan.validItems - done;
    return {
      runId: c.runId,
      runDir: c.runDir,
      state: c.paused && this.state === 'running' ? 'paused' : this.state,
      items: {
        total: c.plan.items,
        valid: c.plan.validItems,
        invalid: c.plan.invalidCount,
        completed: c.items.completed,
        failed: c.items.failed,
        inFlight: inFlightItems,
        pending: c.pendingItems,
      },
      jobs: {
        planned: c.plan.batches,
        completed: c.jobs.completed,
        failed: c.jobs.failed,
        inFlight: this.inFlightCount,
        pending: c.plan.batches - c.cursor,
      },
      humeJobsCreated: c.humeJobsCreated,
      resubmissions: c.resubmissions,
      maxJobsInFlight: c.maxJobsInFlight,
      failures: c.failures,
      startedAt: c.startedAt,
      elapsedMs,
      itemsPerSecond,
      ...(itemsPerSecond > 0 ? { etaMs: Math.round((remaining / itemsPerSecond) * 1000) } : {}),
      continuedAsNew: c.continuedAsNew,
    };
  }
}

/** Progress while the manifest is still being planned: nothing is known yet but the start. */
export function planningProgress(
  run: { runId: string; runDir: string },
  startedAt: number,
  control: { paused: boolean; maxJobsInFlight: number },
): RunProgress {
  const none = { completed: 0, failed: 0, inFlight: 0, pending: 0 };
  return {
    ...run,
    state: control.paused ? 'paused' : 'planning',
    items: { total: 0, valid: 0, invalid: 0, ...none },
    jobs: { planned: 0, ...none },
    humeJobsCreated: 0,
    resubmissions: 0,
    maxJobsInFlight: control.maxJobsInFlight,
    failures: [],
    startedAt,
    elapsedMs: 0,
    itemsPerSecond: 0,
    continuedAsNew: 0,
  };
}
