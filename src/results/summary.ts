/**
 * What finalize counts while it writes the index, and the two JSON files it ends with:
 * `summary.json` (counts, failures, timings) and `run.json` (what was run). Both hold only what
 * the caller passed in or what was counted, never the time of finalize itself, so a rerun
 * writes the same bytes.
 */
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
}

/** The run's results in brief, small enough for workflow history. */
export interface RunSummary {
  items: { completed: number; failed: number; invalid: number; notRun: number };
  jobs: { completed: number; failed: number };
  fileErrors: number;
  /** Rows per model CSV. */
  csv: Partial<Record<ModelName, number>>;
  paths: { runDir: string; index: string; summary: string };
}

/** Failed items listed in summary.json; the index has them all. */
const MAX_FAILURES = 100;

interface Failure {
  batch: number | undefined;
  job_id: string | null | undefined;
  id: string | undefined;
  line: number;
  error: string | undefined;
}

export class RunTally {
  readonly items: RunSummary['items'] = { completed: 0, failed: 0, invalid: 0, notRun: 0 };
  /** Batches by outcome; `notRun` had none. */
  readonly jobs = { completed: 0, failed: 0, notRun: 0 };
  fileErrors = 0;
  readonly failures: Failure[] = [];

  addEntry(entry: IndexEntry): void {
    if (entry.status === 'not_run') this.items.notRun++;
    else this.items[entry.status]++;
    if (entry.status === 'failed' && this.failures.length < MAX_FAILURES) {
      this.failures.push({ batch: entry.batch, job_id: entry.job_id, id: entry.id, line: entry.line, error: entry.error });
    }
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

export function summaryJson(runId: string, run: RunInfo, tally: RunTally, csvRows: RunSummary['csv']) {
  return {
    runId,
    state: run.state,
    ...(run.error ? { error: run.error } : {}),
    items: tally.items,
    // Batches by the outcome finalize used; `notRun` batches never finished.
    jobs: tally.jobs,
    humeJobsCreated: run.humeJobsCreated,
    resubmissions: run.resubmissions,
    fileErrors: tally.fileErrors,
    timings: timings(run),
    csv: Object.fromEntries(
      Object.entries(csvRows).map(([model, rows]) => [model, { path: csvPath(model as ModelName), rows }]),
    ),
    failures: tally.failures,
    failuresTruncated: tally.items.failed > tally.failures.length,
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
