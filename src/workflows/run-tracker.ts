/**
 * The state of a `humeBatch` run that survives continue-as-new: cursor, in-flight batches,
 * counters. A plain class the workflow drives, so the workflow itself stays a thin loop.
 */
import type { BatchFinished, BatchRange, HumeBatchInput, PlanResult, RunProgress, RunState } from './definitions.js';

const MAX_FAILURES_KEPT = 20;
const IN_FLIGHT_BATCHES_SHOWN = 20;

const DEFAULT_PAUSE_AFTER_FAILED_BATCHES = 5;

export interface InFlightBatch {
  workflowId: string;
  items: number;
  /** Kept so the batch can be looked up, recorded or run again without re-reading the plan. */
  range: BatchRange;
  /** How often the batch was started before (after a pause for an account-level failure). */
  generation: number;
}

/** A batch whose job was refused for the account: it runs again once the run resumes. */
export interface RequeuedBatch {
  range: BatchRange;
  generation: number;
}

/** The run's settings: the input's, or for a redrive the original run's. */
export type RunSettings = Pick<
  HumeBatchInput,
  | 'config'
  | 'artifacts'
  | 'maxJobAttempts'
  | 'polling'
  | 'allowedRoot'
  | 'maxFailedItemsPercent'
  | 'onCancel'
  | 'searchAttributes'
  | 'maxJobDuration'
  | 'resubmitDelay'
  | 'pauseAfterFailedBatches'
>;

/** Why the run paused by itself; cleared by `resume`. */
export interface PauseCause {
  reason: string;
  at: number;
  batch: number;
}

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
  /** Set when the run paused itself (circuit breaker). */
  pausedBy?: PauseCause;
  /** Batches that failed since the last one completed. */
  failedInARow: number;
  requeued: RequeuedBatch[];
  maxJobsInFlight: number;
  continuedAsNew: number;
  /** The build the previous run continued as new to leave (Worker Versioning); see `newBuildIsCurrent`. */
  leftBuild?: string;
  /** Why the run could not go on, once it could not. */
  error?: string;
}

export class RunTracker {
  state: RunState = 'running';

  constructor(readonly carry: RunCarry) {}

  get inFlightCount(): number {
    return Object.keys(this.carry.inFlight).length;
  }

  get allStarted(): boolean {
    return this.carry.cursor >= this.carry.plan.batches && this.carry.requeued.length === 0;
  }

  /** The next batch to start comes from the requeue before the plan. */
  get nextRequeued(): RequeuedBatch | undefined {
    return this.carry.requeued[0];
  }

  get finished(): boolean {
    return this.allStarted && this.inFlightCount === 0;
  }

  get hasRoom(): boolean {
    return !this.carry.paused && !this.allStarted && this.inFlightCount < this.carry.maxJobsInFlight;
  }

  /** Marks a batch in flight: from the requeue when `generation` > 0, else the plan's next. */
  started(inFlight: InFlightBatch): void {
    const c = this.carry;
    c.inFlight[inFlight.range.index] = inFlight;
    c.pendingItems -= inFlight.items;
    if (inFlight.generation > 0) c.requeued = c.requeued.filter((r) => r.range.index !== inFlight.range.index);
    else c.cursor++;
  }

  /** A batch whose child could not be started leaves the window; its items stay not run. */
  notStarted(batch: InFlightBatch): void {
    delete this.carry.inFlight[batch.range.index];
  }

  /**
   * Applies a child's report. A report for a batch not in flight (a duplicate: report signal and
   * child result both arrive) or from an older child of the batch changes nothing. A blocked
   * batch, or too many failed in a row, pauses the run.
   */
  finish(report: BatchFinished): void {
    const c = this.carry;
    const batch = c.inFlight[report.batch];
    if (!batch || (report.workflowId !== undefined && report.workflowId !== batch.workflowId)) return;
    delete c.inFlight[report.batch];
    c.humeJobsCreated += report.jobIds.length;
    if (report.status === 'blocked') {
      // Hume refused the account: nothing ran; the batch waits for `resume`.
      c.requeued.push({ range: batch.range, generation: batch.generation + 1 });
      c.pendingItems += batch.items;
      this.pause(report.batch, report.error ?? 'Hume refused the account');
      return;
    }
    c.items.completed += report.items.completed;
    c.items.failed += report.items.failed;
    c.resubmissions += Math.max(0, report.jobIds.length - 1);
    if (report.status === 'completed') {
      c.jobs.completed++;
      c.failedInARow = 0;
      return;
    }
    c.jobs.failed++;
    c.failedInARow++;
    c.failures.push({ batch: report.batch, error: report.error ?? 'unknown error' });
    if (c.failures.length > MAX_FAILURES_KEPT) c.failures.shift();
    const limit = c.settings.pauseAfterFailedBatches ?? DEFAULT_PAUSE_AFTER_FAILED_BATCHES;
    if (limit > 0 && c.failedInARow >= limit && !this.allStarted) {
      this.pause(report.batch, `${c.failedInARow} batches failed in a row; last: ${report.error ?? 'unknown error'}`);
    }
  }

  /** `resume`: an operator's, after fixing what paused the run. */
  resume(): void {
    this.carry.paused = false;
    this.carry.pausedBy = undefined;
    this.carry.failedInARow = 0;
  }

  private pause(batch: number, reason: string): void {
    // The first cause is the one to fix; batches already in flight may report the same one.
    if (this.carry.pausedBy) return;
    this.carry.paused = true;
    this.carry.pausedBy = { reason, at: Date.now(), batch };
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
        pending: c.plan.batches - c.cursor + c.requeued.length,
      },
      humeJobsCreated: c.humeJobsCreated,
      resubmissions: c.resubmissions,
      maxJobsInFlight: c.maxJobsInFlight,
      failures: c.failures,
      inFlightBatches: Object.values(c.inFlight)
        .sort((a, b) => a.range.index - b.range.index)
        .slice(0, IN_FLIGHT_BATCHES_SHOWN)
        .map((b) => ({ batch: b.range.index, workflowId: b.workflowId })),
      ...(c.pausedBy ? { pausedBy: c.pausedBy } : {}),
      ...(c.error ? { error: c.error } : {}),
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
    inFlightBatches: [],
    startedAt,
    elapsedMs: 0,
    itemsPerSecond: 0,
    continuedAsNew: 0,
  };
}
