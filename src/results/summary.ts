/**
 * What finalize counts while it writes the index, and the two JSON files it ends with:
 * `summary.json` (counts, failures, timings) and `run.json` (what was run). Both hold only what
 * the caller passed in or what was counted, never the time of finalize itself, so a rerun
 * writes the same bytes.
 */
import { z } from 'zod';
import type { ModelName } from '../hume/schemas.js';
import type { BatchOutcome, ManifestRef } from '../schemas/batch.js';
import type { IndexEntry } from './index-entries.js';
import { csvPath } from './layout.js';

/** The run as the workflow saw it; the caller strips secrets from `input`. */
export interface RunInfo {
  input: Record<string, unknown>;
  startedAt: number;
  finishedAt: number;
  state: 'completed' | 'failed' | 'cancelled';
  /** Why the run could not go on, when it could not. */
  error?: string;
  humeJobsCreated: number;
  resubmissions: number;
  /** The workflow that wrote this finalize: the run's, or a redrive's. */
  workflowId?: string;
  /** A redrive adds its figures to those of the run and earlier redrives already in summary.json. */
  redrive?: boolean;
}

/** One run or redrive of a results folder, as summary.json's `runs` lists them. */
export const RunFigures = z.object({
  workflowId: z.string().optional(),
  kind: z.enum(['run', 'redrive']),
  state: z.string(),
  humeJobsCreated: z.number(),
  resubmissions: z.number(),
  timings: z.object({ startedAt: z.string(), finishedAt: z.string(), durationMs: z.number() }),
});
export type RunFigures = z.infer<typeof RunFigures>;

const PriorSummary = z
  .object({ runs: z.array(RunFigures).optional(), state: z.string(), humeJobsCreated: z.number(), resubmissions: z.number(), timings: RunFigures.shape.timings })
  .loose();

/**
 * The figures of the runs before this one in the folder (for a redrive): summary.json's `runs`, or
 * for a folder from before `runs` its top-level figures. A finalize tried again drops its own entry.
 */
export function priorRuns(previous: unknown, run: RunInfo): RunFigures[] {
  if (!run.redrive) return [];
  const parsed = PriorSummary.safeParse(previous);
  if (!parsed.success) return [];
  const { runs, state, humeJobsCreated, resubmissions, timings: t } = parsed.data;
  const all = runs ?? [{ kind: 'run' as const, state, humeJobsCreated, resubmissions, timings: t }];
  const own = timings(run).startedAt;
  return all.filter((r) => !(r.workflowId === run.workflowId && r.timings.startedAt === own));
}

/** The run's results in brief, small enough for workflow history. */
export interface RunSummary {
  /** Manifest items by status; a failed item is one with no result. */
  items: { completed: number; failed: number; invalid: number; notRun: number };
  jobs: { completed: number; failed: number };
  /**
   * Hume's per-file errors inside completed jobs (a file of a source it could not read, a model
   * that did not apply): counted apart from items, since an item with some of them may still
   * have completed with the predictions that did come back.
   */
  predictionErrors: number;
  /** Rows per model CSV. */
  csv: Partial<Record<ModelName, number>>;
  /**
   * Rows the finalize attempt that returned this copied from the jobs' shards: fewer than all
   * when it resumed from a checkpoint. Absent in a summary rebuilt from summary.json.
   */
  rowsCopied?: number;
  paths: { runDir: string; index: string; summary: string };
}

/** Failure groups listed in summary.json; the index has every failed item. */
const MAX_FAILURES = 100;

/**
 * Failed items that share a batch, a job and an error, listed once with their count. `kind`:
 * `batch` when the batch's Hume job failed (or none was created) and its items failed with it;
 * `item` when Hume completed the job but these items' sources came back with this error.
 */
export interface FailureGroup {
  batch: number | undefined;
  job_id: string | null | undefined;
  kind: 'batch' | 'item';
  error: string | undefined;
  items: number;
}

const n = z.number().int().min(0);
/** A tally as a checkpoint saves it, between batches. */
export const SavedTally = z.object({
  items: z.object({ completed: n, failed: n, invalid: n, notRun: n }),
  jobs: z.object({ completed: n, failed: n, notRun: n }),
  predictionErrors: n,
  failures: z.array(z.object({
    batch: n.optional(), job_id: z.string().nullable().optional(), kind: z.enum(['batch', 'item']), error: z.string().optional(), items: n,
  })),
  failuresTruncated: z.boolean(),
});
export type SavedTally = z.infer<typeof SavedTally>;

export class RunTally {
  readonly items: RunSummary['items'] = { completed: 0, failed: 0, invalid: 0, notRun: 0 };
  /** Batches by outcome; `notRun` had none. */
  readonly jobs = { completed: 0, failed: 0, notRun: 0 };
  predictionErrors = 0;
  readonly failures: FailureGroup[] = [];
  /** More failure groups than `MAX_FAILURES`. */
  failuresTruncated = false;

  /**
   * A tally saved between batches. Its groups by key are not saved: they only ever join entries
   * of the batch being added, and the next entry after a saved batch is of another batch (or an
   * invalid line), which starts them afresh anyway.
   */
  static restore(saved: SavedTally): RunTally {
    const tally = new RunTally();
    Object.assign(tally.items, saved.items);
    Object.assign(tally.jobs, saved.jobs);
    tally.predictionErrors = saved.predictionErrors;
    tally.failures.push(...saved.failures.map((f) => ({ batch: f.batch, job_id: f.job_id, kind: f.kind, error: f.error, items: f.items })));
    tally.failuresTruncated = saved.failuresTruncated;
    return tally;
  }

  save(): SavedTally {
    return { items: { ...this.items }, jobs: { ...this.jobs }, predictionErrors: this.predictionErrors, failures: this.failures.map((f) => ({ ...f })), failuresTruncated: this.failuresTruncated };
  }
  /** Groups by batch, job, kind and error: of the batch being added only, so it stays small. */
  #groups = new Map<string, FailureGroup>();
  #groupsBatch: number | undefined;

  /** `batchFailed`: the outcome that speaks for the item is a failed batch's. */
  addEntry(entry: IndexEntry, batchFailed = false): void {
    if (entry.status === 'not_run') this.items.notRun++;
    else this.items[entry.status]++;
    if (entry.status === 'failed') this.#addFailure(entry, batchFailed ? 'batch' : 'item');
  }

  #addFailure(entry: IndexEntry, kind: FailureGroup['kind']): void {
    if (entry.batch !== this.#groupsBatch) {
      this.#groups = new Map();
      this.#groupsBatch = entry.batch;
    }
    const key = JSON.stringify([entry.job_id, kind, entry.error]);
    const group = this.#groups.get(key);
    if (group) {
      group.items++;
      return;
    }
    if (this.failures.length >= MAX_FAILURES) {
      this.failuresTruncated = true;
      return;
    }
    const added: FailureGroup = { batch: entry.batch, job_id: entry.job_id, kind, error: entry.error, items: 1 };
    this.failures.push(added);
    this.#groups.set(key, added);
  }

  addBatch(outcome: BatchOutcome | undefined): void {
    if (!outcome) this.jobs.notRun++;
    else if (outcome.status === 'COMPLETED') this.jobs.completed++;
    else this.jobs.failed++;
  }
}

function timings(run: RunInfo) {
  return {
    startedAt: new Date(run.startedAt).toISOString(),
    finishedAt: new Date(run.finishedAt).toISOString(),
    durationMs: run.finishedAt - run.startedAt,
  };
}

/** The CSVs' `meta.<key>` columns: how many, and whether items had more keys than the CSVs carry. */
export interface MetaColumnsInfo {
  count: number;
  truncated: boolean;
}

export function summaryJson(runId: string, run: RunInfo, tally: RunTally, csvRows: RunSummary['csv'], meta: MetaColumnsInfo, prior: RunFigures[] = []) {
  const runs: RunFigures[] = [
    ...prior,
    {
      ...(run.workflowId ? { workflowId: run.workflowId } : {}),
      kind: run.redrive ? 'redrive' : 'run',
      state: run.state,
      humeJobsCreated: run.humeJobsCreated,
      resubmissions: run.resubmissions,
      timings: timings(run),
    },
  ];
  const first = runs[0]!.timings;
  return {
    runId,
    state: run.state,
    ...(run.error ? { error: run.error } : {}),
    items: tally.items,
    // Batches by the outcome finalize used; `notRun` batches never finished.
    jobs: tally.jobs,
    // The run and all its redrives together; each one's own figures are in `runs`.
    humeJobsCreated: runs.reduce((sum, r) => sum + r.humeJobsCreated, 0),
    resubmissions: runs.reduce((sum, r) => sum + r.resubmissions, 0),
    predictionErrors: tally.predictionErrors,
    timings: {
      startedAt: first.startedAt,
      finishedAt: timings(run).finishedAt,
      /** Time spent running: the run's and each redrive's, not the pauses between them. */
      durationMs: runs.reduce((sum, r) => sum + r.timings.durationMs, 0),
    },
    runs,
    csv: Object.fromEntries(
      Object.entries(csvRows).map(([model, rows]) => [model, { path: csvPath(model as ModelName), rows }]),
    ),
    metaColumns: meta.count,
    metaColumnsTruncated: meta.truncated,
    failures: tally.failures,
    failuresTruncated: tally.failuresTruncated,
  };
}

export function runJson(runId: string, run: RunInfo, manifest: ManifestRef) {
  const config = run.input.config as { models?: unknown } | undefined;
  return {
    runId,
    state: run.state,
    ...(run.error ? { error: run.error } : {}),
    input: run.input,
    manifest: { path: manifest.path, sha256: manifest.sha256, format: manifest.format },
    models: config?.models ?? null,
    timings: timings(run),
  };
}
