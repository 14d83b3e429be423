/**
 * `temporal-hume results <run-id>`: where a run's results are and what they hold. Exits 0 for a
 * completed run, 1 while it runs, when it failed or was cancelled, or when it left no folder.
 */
import type { Command } from 'commander';
import { CliError, EXIT } from './errors.js';
import { readSummary, resultFromSummary, runOutcome, type SummaryFile } from './outcome.js';
import { printJson, printRows, resultRows, type Row } from './output.js';
import { outcomeRows } from './status.js';
import { runIdCommand, type RunIdFlags, withRun } from './temporal.js';

const FAILURES_SHOWN = 10;

export function resultsCommand(): Command {
  return runIdCommand('results', "where a finished run's results are: its folder, summary.json, and each CSV with its row count").action(
    async (runId: string, flags: RunIdFlags) => {
      await withRun(runId, flags, async (found, session) => {
        const outcome = await runOutcome(session, found);
        if (outcome.kind === 'running') {
          if (flags.json) printJson({ workflowId: found.workflowId, status: found.status, ...outcome });
          else printRows(outcomeRows(outcome));
          throw new CliError(`run ${found.workflowId} is still running: its results are written when it ends`, EXIT.failed);
        }
        if (outcome.kind === 'failed') throw new CliError(`run ${found.workflowId} ended without results: ${outcome.error}`, EXIT.failed);
        const runDir = outcome.kind === 'ended' ? outcome.result.runDir : outcome.runDir;
        // The folder is the worker's: on another machine it may not be readable from here.
        const file = await readSummary(runDir);
        const result = outcome.kind === 'ended' ? outcome.result : file && resultFromSummary(runDir, file);
        if (!result) throw new CliError(`run ${found.workflowId} was cancelled; its folder ${runDir} is not readable from here`, EXIT.failed);
        if (flags.json) printJson({ workflowId: found.workflowId, ...result, summaryJson: file ?? null });
        else printRows([...resultRows(result), ...failureRows(file)]);
        if (result.state !== 'completed') process.exitCode = EXIT.failed;
      });
    },
  );
}

/** Failures as summary.json groups them: one row per batch and error, with its item count. */
function failureRows(file: SummaryFile | undefined): Row[] {
  const failures = file?.failures.slice(0, FAILURES_SHOWN) ?? [];
  const rows = failures.map((f): Row => [
    `failed (batch ${f.batch ?? '-'})`,
    `${f.items} item${f.items === 1 ? '' : 's'}${f.job_id ? `, job ${f.job_id}` : ''}: ${f.error ?? 'no error given'}`,
  ]);
  const shown = failures.reduce((sum, f) => sum + f.items, 0);
  const more = (file?.items.failed ?? 0) - shown;
  return more > 0 ? [...rows, ['', `… ${more} more failed items in the index`]] : rows;
}
