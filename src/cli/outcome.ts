/**
 * Where a run stands, from Temporal alone: still running (with its progress), ended with a results
 * folder, or ended without one. `status` and `results` both print from this.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { RunHandle } from '../client.js';
import type { ModelName } from '../hume/schemas.js';
import { INDEX_JSONL, SUMMARY_JSON } from '../results/layout.js';
import type { summaryJson } from '../results/summary.js';
import { resolveLocation } from '../store/location.js';
import { createStorage } from '../store/storage.js';
import type { HumeBatchResult, RunProgress } from '../workflows/definitions.js';
import { CliError, EXIT, rootFailure } from './errors.js';
import type { FoundRun, TemporalSession } from './temporal.js';
import { FAILURE_TYPES } from '../workflows/definitions.js';

export type RunOutcome =
  | { kind: 'running'; progress: RunProgress }
  /** Completed, or failed over its failure threshold: the folder is written either way. */
  | { kind: 'ended'; result: HumeBatchResult }
  /** Cancelled: the folder holds what finished, but the run returned no result. */
  | { kind: 'cancelled'; runDir: string }
  /** Ended without a folder: the manifest was refused, or the workflow was terminated or timed out. */
  | { kind: 'failed'; error: string };

/** A query needs a worker; without one it would wait for the server's own deadline. */
const QUERY_TIMEOUT_MS = 10_000;

export async function runOutcome(session: TemporalSession, found: FoundRun): Promise<RunOutcome> {
  const { run, status } = found;
  if (status === 'RUNNING') return { kind: 'running', progress: await queryProgress(session, found) };
  // A cancelled run returns no result: its folder comes from its progress.
  if (status === 'CANCELLED') return { kind: 'cancelled', runDir: (await queryProgress(session, found)).runDir };
  if (status !== 'COMPLETED' && status !== 'FAILED') return { kind: 'failed', error: `the workflow was ${status.toLowerCase().replace('_', ' ')}` };
  try {
    const result = await runResult(run);
    // Redriven since: the folder, rewritten by the last redrive, describes the run as it now is.
    const file = await readSummary(result.runDir);
    return { kind: 'ended', result: file && (file.runs?.length ?? 1) > 1 ? resultFromSummary(result.runDir, file) : result };
  } catch (err) {
    if (err instanceof WorkflowFailedError) return { kind: 'failed', error: rootFailure(err).message };
    throw err;
  }
}

async function queryProgress(session: TemporalSession, found: FoundRun): Promise<RunProgress> {
  try {
    return await session.client.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () => found.run.progress());
  } catch (err) {
    throw new CliError(
      `no worker answered the progress query of run ${found.workflowId} (is a worker polling task queue ${found.taskQueue}?)`,
      EXIT.failed,
      { cause: err },
    );
  }
}

/** The run's result; a run that failed over its failure threshold still wrote its folder, and its result rides in the failure. */
export async function runResult(run: RunHandle): Promise<HumeBatchResult> {
  try {
    return await run.result();
  } catch (err) {
    if (err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure && err.cause.type === FAILURE_TYPES.runFailed) {
      return err.cause.details?.[0] as HumeBatchResult;
    }
    throw err;
  }
}

export type SummaryFile = ReturnType<typeof summaryJson>;

/** The run folder's summary.json, when it is readable from here (the folder is the worker's: maybe not). */
export async function readSummary(runDir: string): Promise<SummaryFile | undefined> {
  try {
    return ((await createStorage().folder(runDir).readJson(SUMMARY_JSON)) as SummaryFile | undefined) ?? undefined;
  } catch {
    return undefined;
  }
}

/** A run's result as its summary.json tells it: for a cancelled run (which returns none) or a redriven one. */
export function resultFromSummary(runDir: string, file: SummaryFile): HumeBatchResult {
  return {
    runId: file.runId,
    runDir,
    state: file.state,
    summary: {
      items: file.items,
      jobs: file.jobs,
      predictionErrors: file.predictionErrors,
      csv: Object.fromEntries(Object.entries(file.csv).map(([model, csv]) => [model as ModelName, csv.rows])),
      paths: { runDir, index: resolveLocation(runDir, INDEX_JSONL), summary: resolveLocation(runDir, SUMMARY_JSON) },
    },
  };
}
