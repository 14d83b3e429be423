/** `temporal-hume status <run-id>`: where a run stands. Exits 0 whenever the run exists, whatever its state. */
import type { Command } from 'commander';
import type { RunProgress } from '../workflows/definitions.js';
import { runOutcome, type RunOutcome } from './outcome.js';
import { printJson, printRows, resultRows, type Row } from './output.js';
import { formatDuration } from './progress.js';
import { runIdCommand, type RunIdFlags, withRun } from './temporal.js';

const FAILURES_SHOWN = 5;

export function statusCommand(): Command {
  return runIdCommand('status', "a run's state: progress while it runs, its results once it has ended").action(
    async (runId: string, flags: RunIdFlags) => {
      await withRun(runId, flags, async (found, session) => {
        const outcome = await runOutcome(session, found);
        if (flags.json) printJson({ workflowId: found.workflowId, status: found.status, ...outcome });
        else printRows([['workflow', found.workflowId], ...outcomeRows(outcome)]);
      });
    },
  );
}

export function outcomeRows(outcome: RunOutcome): Row[] {
  switch (outcome.kind) {
    case 'running':
      return progressRows(outcome.progress);
    case 'ended':
      return resultRows(outcome.result);
    case 'cancelled':
      return [['state', 'cancelled'], ['folder', outcome.runDir]];
    case 'failed':
      return [['state', 'failed'], ['error', outcome.error]];
  }
}

function progressRows(p: RunProgress): Row[] {
  const { items, jobs } = p;
  return [
    ['run', p.runId],
    ['state', p.state],
    ['folder', p.runDir],
    ['items', `${items.completed + items.failed}/${items.valid} done (${items.failed} failed, ${items.inFlight} in flight, ${items.invalid} invalid)`],
    ['jobs', `${jobs.completed} completed, ${jobs.failed} failed, ${jobs.inFlight} in flight, ${jobs.pending} pending of ${jobs.planned}`],
    ['Hume jobs created', `${p.humeJobsCreated} (${p.resubmissions} resubmissions)`],
    ['max jobs in flight', String(p.maxJobsInFlight)],
    ['elapsed', formatDuration(p.elapsedMs)],
    ['rate', `${p.itemsPerSecond.toFixed(1)} items/s, ETA ${formatDuration(p.etaMs)}`],
    ...(p.pausedBy
      ? [['paused by itself', `${p.pausedBy.reason} (batch ${p.pausedBy.batch}); fix the cause, then: temporal-hume resume ${p.runId}`] as Row]
      : []),
    ...(p.error ? [['error', p.error] as Row] : []),
    ...p.failures.slice(-FAILURES_SHOWN).map(({ batch, error }): Row => [`failure (batch ${batch})`, error]),
  ];
}
