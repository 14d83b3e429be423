/**
 * Where a run stands, from Temporal alone: still running (with its progress), ended with a results
 * folder, or ended without one. `status` and `results` both print from this.
 */
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import type { RunHandle } from '../client.js';
import type { HumeBatchInput, HumeBatchResult, RunProgress } from '../workflows/definitions.js';
import { CliError, EXIT, rootFailure } from './errors.js';
import type { FoundRun, TemporalSession } from './temporal.js';

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
  if (status === 'RUNNING') {
    const progress = await session.client
      .withDeadline(Date.now() + QUERY_TIMEOUT_MS, () => run.progress())
      .catch((err: unknown) => {
        throw new CliError(
          `run ${found.workflowId} is running, but no worker answered its progress query (is a worker polling task queue ${found.taskQueue}?)`,
          EXIT.failed,
          { cause: err },
        );
      });
    return { kind: 'running', progress };
  }
  if (status === 'CANCELLED') return { kind: 'cancelled', runDir: await runDirFromInput(session, found.workflowId) };
  if (status !== 'COMPLETED' && status !== 'FAILED') return { kind: 'failed', error: `the workflow was ${status.toLowerCase().replace('_', ' ')}` };
  try {
    return { kind: 'ended', result: await runResult(run) };
  } catch (err) {
    if (err instanceof WorkflowFailedError) return { kind: 'failed', error: rootFailure(err).message };
    throw err;
  }
}

/** The run's result; a run that failed over its failure threshold still wrote its folder, and its result rides in the failure. */
export async function runResult(run: RunHandle): Promise<HumeBatchResult> {
  try {
    return await run.result();
  } catch (err) {
    if (err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure && err.cause.type === 'RUN_FAILED') {
      return err.cause.details?.[0] as HumeBatchResult;
    }
    throw err;
  }
}

/** `<outDir>/<runId>`, from the input of the run's latest execution (the first event of its history). */
async function runDirFromInput(session: TemporalSession, workflowId: string): Promise<string> {
  const { history } = await session.client.workflowService.getWorkflowExecutionHistory({
    namespace: session.namespace,
    execution: { workflowId },
    maximumPageSize: 1,
  });
  const payload = history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload) throw new CliError(`run ${workflowId}: its input is not in its history`, EXIT.failed);
  const input = defaultPayloadConverter.fromPayload<HumeBatchInput>(payload);
  return join(input.outDir, input.runId ?? workflowId);
}
