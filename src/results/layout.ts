/**
 * Names inside a run's results folder (`<out>/<run-id>/`), in one place so the activities that
 * write it and finalize, which reads it back, agree. No Node imports: workflows may use it.
 */
import type { ModelName } from '../hume/schemas.js';

/**
 * Who owns the folder: the workflow (id and first run id) whose planning created it, written
 * before anything else. Another run with the same run id is refused; redrives neither check nor
 * change it.
 */
export const OWNER_JSON = 'owner.json';
export const RUN_JSON = 'run.json';
export const INDEX_JSONL = 'index.jsonl';
export const SUMMARY_JSON = 'summary.json';
/** Every invalid manifest line, written by the plan step. */
export const INVALID_JSONL = 'invalid.jsonl';
export const PLAN_JSONL = 'plan.jsonl';
/** The PlanResult (without its invalid lines), for a later redrive. */
export const PLAN_JSON = 'plan.json';
export const JOBS_DIR = 'jobs';
export const CSV_DIR = 'csv';
export const OUTCOME_JSON = 'outcome.json';
export const PREDICTIONS_JSON = 'predictions.json';
export const ARTIFACTS_ZIP = 'artifacts.zip';
/** A job's rows, written when it is fetched (see shards.ts): `shard.json` last, over `rows/<model>.csv`. */
export const SHARD_JSON = 'shard.json';
export const SHARD_ROWS_DIR = 'rows';
/** Finalize's progress, so a retried finalize continues where the last attempt saved it. */
export const FINALIZE_CHECKPOINT_JSON = 'finalize.checkpoint.json';

const SAFE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** `jobs/<batch>-<job_id>`, or `jobs/<batch>-failed` for a batch that never got a completed job. */
export function jobDir(batch: number, jobId?: string): string {
  // A job id becomes a folder name, so it must not be able to climb out of `jobs/`.
  if (jobId !== undefined && !SAFE_NAME.test(jobId)) throw new Error(`unsafe job id for a folder name: ${JSON.stringify(jobId)}`);
  return `${JOBS_DIR}/${batch}-${jobId ?? 'failed'}`;
}

/** The batch number a `jobs/` folder name starts with. */
export function batchOfJobDir(name: string): number | undefined {
  const match = /^(\d+)-/.exec(name);
  return match ? Number(match[1]) : undefined;
}

export const csvPath = (model: ModelName): string => `${CSV_DIR}/${model}.csv`;
export const shardRowsPath = (jobFolder: string, model: ModelName): string => `${jobFolder}/${SHARD_ROWS_DIR}/${model}.csv`;

/**
 * What a plan or its results leave in a folder. A folder holding any of them but no owner record
 * was written by someone else (a run from before owner records, or not a run of ours), and a new
 * run must not plan over it.
 */
export const RUN_RESULT_ENTRIES: readonly string[] = [PLAN_JSON, PLAN_JSONL, JOBS_DIR, INDEX_JSONL, CSV_DIR, SUMMARY_JSON, RUN_JSON];
