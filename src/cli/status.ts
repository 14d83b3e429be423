/**
 * `temporal-hume status <run-id>`: where a run stands, with each in-flight batch's phase, attempt
 * and last error. Exits 0 whenever the run exists, whatever its state; `--watch` follows it with
 * `run`'s progress view and exits as `run` does.
 */
import type { Command } from 'commander';
import type { RunProgress } from '../workflows/definitions.js';
import { type BatchState, BATCHES_SHOWN, describeBatch, hasWorker, inFlightBatches, noWorkerLine } from './batches.js';
import { runOutcome, type RunOutcome } from './outcome.js';
import { printJson, printRows, resultRows, type Row } from './output.js';
import { formatDuration, PROGRESS_LEGEND } from './progress.js';
import { watchRun } from './run.js';
import { type FoundRun, runIdCommand, type RunIdFlags, type TemporalSession, withRun } from './temporal.js';

const FAILURES_SHOWN = 5;

interface StatusFlags extends RunIdFlags {
  watch?: boolean;
}

export function statusCommand(): Command {
  return runIdCommand('status', "a run's state: progress and in-flight batches while it runs, its results once it has ended")
    .option('--watch', 'follow the run with the progress view until it ends (re-attach after --no-wait or Ctrl-C); exits as run does')
    .addHelpText(
      'after',
      `\nWhile a run runs, status shows up to ${BATCHES_SHOWN} in-flight batches (phase, attempt, Hume job, last error) and says when no worker polls its task queue.\n\n${PROGRESS_LEGEND}\n\nExit codes: 0 the run exists (with --watch: it completed), 1 it failed or was cancelled (--watch) or a server failed us, 2 unknown run.`,
    )
    .action(async (runId: string, flags: StatusFlags) => {
      await withRun(runId, flags, async (found, session) => {
        const worker = found.status === 'RUNNING' ? await hasWorker(session, found.taskQueue).catch(() => true) : true;
        if (!worker) process.stderr.write(`${noWorkerLine(found.taskQueue)}\n`);
        if (flags.watch) {
          if (!flags.json) process.stderr.write(`watching run ${found.workflowId}; Ctrl-C stops watching, never the run\n`);
          return watchRun(found.run, runId, !!flags.json);
        }
        // Without a worker the progress query would only time out: say what Temporal knows.
        if (!worker) return printNoWorker(found, !!flags.json);
        const outcome = await runOutcome(session, found);
        const batches = outcome.kind === 'running' ? await batchStates(session, found, outcome.progress) : undefined;
        if (flags.json) printJson({ workflowId: found.workflowId, status: found.status, ...outcome, ...(batches ? { batches } : {}) });
        else printRows([['workflow', found.workflowId], ...withJobsInFlight(outcomeRows(outcome), batches), ...(batches ? batchRows(batches) : [])]);
      });
    });
}

/** The in-flight batches, or none when visibility cannot list them (an old server): the counts still show. */
async function batchStates(session: TemporalSession, found: FoundRun, progress: RunProgress): Promise<{ running: number; shown: BatchState[] } | undefined> {
  try {
    const { batches, running } = await inFlightBatches(session, found.workflowId, progress.inFlightBatches && { listed: progress.inFlightBatches, running: progress.jobs.inFlight });
    return { running, shown: batches };
  } catch {
    return undefined;
  }
}

/** The run counts the Hume jobs of finished batches; those of batches in flight are in their own status. */
function withJobsInFlight(rows: Row[], batches: { running: number; shown: BatchState[] } | undefined): Row[] {
  if (!batches || batches.shown.length === 0) return rows;
  const inFlight = batches.shown.reduce((sum, b) => sum + (b.status?.jobIds.length ?? 0), 0);
  const of = batches.running > batches.shown.length ? ` (the first ${batches.shown.length} of ${batches.running})` : '';
  return rows.map(([key, value]): Row => (key === 'Hume jobs created' ? [key, `${value}, and ${inFlight} by batches in flight${of}`] : [key, value]));
}

function batchRows({ running, shown }: { running: number; shown: BatchState[] }): Row[] {
  const rows = shown.map((b): Row => [`batch ${b.batch}`, describeBatch(b)]);
  return running > shown.length ? [...rows, ['', `… ${running - shown.length} more batches in flight`]] : rows;
}

function printNoWorker(found: FoundRun, json: boolean): void {
  const warning = noWorkerLine(found.taskQueue);
  if (json) printJson({ workflowId: found.workflowId, status: found.status, kind: 'running', worker: false, taskQueue: found.taskQueue, warning });
  else printRows([['workflow', found.workflowId], ['state', 'running (no worker: progress unknown)'], ['task queue', found.taskQueue]]);
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
    ['Hume jobs created', `${p.humeJobsCreated} by finished batches (${p.resubmissions} resubmissions)`],
    ['max jobs in flight', String(p.maxJobsInFlight)],
    // The query answers with the time of the run's last task; a run stuck for an hour has been running for an hour.
    ['elapsed', formatDuration(isEnded(p.state) ? p.elapsedMs : Math.max(p.elapsedMs, Date.now() - p.startedAt))],
    ['rate', `${p.itemsPerSecond.toFixed(1)} items/s, ETA ${formatDuration(p.etaMs)}`],
    ...(p.pausedBy
      ? [['paused by itself', `${p.pausedBy.reason} (batch ${p.pausedBy.batch}); fix the cause, then: temporal-hume resume ${p.runId}`] as Row]
      : []),
    ...(p.error ? [['error', p.error] as Row] : []),
    ...p.failures.slice(-FAILURES_SHOWN).map(({ batch, error }): Row => [`failure (batch ${batch})`, error]),
  ];
}

const isEnded = (state: RunProgress['state']) => state === 'completed' || state === 'failed' || state === 'cancelled';
