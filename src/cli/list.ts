/**
 * `temporal-hume list`: the runs on the server, newest first, with state, items done/total,
 * start time and folder. Bounded: only running runs are queried (in parallel, each with a short
 * deadline); an ended run's counts come from its result, which needs no worker; what cannot be
 * learnt in time falls back to the memo (run id) and Temporal's status.
 */
import { Command, InvalidArgumentError } from 'commander';
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { RunHandle } from '../client.js';
import type { humeBatch } from '../workflows/index.js';
import { runResult } from './outcome.js';
import { printJson, printTable } from './output.js';
import { addTemporalOptions, connectTemporal, type TemporalFlags, type TemporalSession } from './temporal.js';

/** A query or result fetch per listed run: a live worker answers in milliseconds. */
const LOOKUP_TIMEOUT_MS = 2_000;

interface ListFlags extends TemporalFlags {
  limit: number;
  running?: boolean;
  json?: boolean;
}

export interface ListedRun {
  runId: string;
  workflowId: string;
  /** Temporal's status: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, … */
  status: string;
  /** The run's own state (`paused`, `finalizing`, …) when it answered, else Temporal's status in lower case. */
  state: string;
  /** Items finished (completed or failed) of the valid items; undefined when unknown. */
  items?: { done: number; total: number };
  startedAt: string;
  folder?: string;
  /** For a redrive: the run it re-runs. */
  redriveOf?: string;
}

const positive = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InvalidArgumentError('must be an integer from 1 to 1000');
  return n;
};

export function listCommand(): Command {
  const cmd = new Command('list')
    .description('list runs (and redrives), newest first: state, items done/total, when they started, their folder')
    .option('--limit <n>', 'runs to list, 1-1000', positive, 20)
    .option('--running', 'only runs still running')
    .option('--json', 'print JSON on stdout');
  return addTemporalOptions(cmd).action(async (flags: ListFlags) => {
    const session = await connectTemporal(flags);
    try {
      const query = `WorkflowType = "humeBatch" AND ExecutionStatus != "ContinuedAsNew"${flags.running ? ' AND ExecutionStatus = "Running"' : ''}`;
      const executions: WorkflowExecutionInfo[] = [];
      for await (const execution of session.client.workflow.list({ query, pageSize: Math.min(flags.limit, 100) })) {
        // Runs started by startRun: other humeBatch workflows (users' own ids) are not ours to show.
        if (!execution.workflowId.startsWith('hume-run-')) continue;
        executions.push(execution);
        if (executions.length >= flags.limit) break;
      }
      const runs = await Promise.all(
        executions.map((execution) => session.client.withDeadline(Date.now() + LOOKUP_TIMEOUT_MS, () => describeRun(session, execution)).catch(() => fromMemo(execution))),
      );
      if (flags.json) printJson({ runs });
      else if (runs.length === 0) process.stderr.write(flags.running ? 'no running runs\n' : 'no runs\n');
      else {
        printTable(
          ['RUN', 'STATE', 'ITEMS', 'STARTED', 'FOLDER'],
          runs.map((r) => [
            r.redriveOf ? `${r.runId} (redrive)` : r.runId,
            r.state,
            r.items ? `${r.items.done}/${r.items.total}` : '-',
            r.startedAt,
            r.folder ?? '-',
          ]),
        );
      }
    } finally {
      await session.close();
    }
  });
}

function fromMemo(execution: WorkflowExecutionInfo): ListedRun {
  const memo = execution.memo ?? {};
  const status = execution.status.name;
  return {
    runId: typeof memo.runId === 'string' ? memo.runId : execution.workflowId.replace(/^hume-run-/, ''),
    workflowId: execution.workflowId,
    status,
    state: status.toLowerCase().replace('_', ' '),
    startedAt: execution.startTime.toISOString(),
    ...(typeof memo.redriveOf === 'string' ? { redriveOf: memo.redriveOf } : {}),
  };
}

/** Running: its progress query; ended: its result (a cancelled or terminated run has none). */
async function describeRun(session: TemporalSession, execution: WorkflowExecutionInfo): Promise<ListedRun> {
  const base = fromMemo(execution);
  // A handle on this very execution: a run id used again must not show the newer run's numbers.
  const run = new RunHandle(session.client.workflow.getHandle<typeof humeBatch>(execution.workflowId, execution.runId));
  if (base.status === 'RUNNING') {
    const p = await run.progress();
    return { ...base, state: p.state, items: { done: p.items.completed + p.items.failed, total: p.items.valid }, folder: p.runDir };
  }
  if (base.status !== 'COMPLETED' && base.status !== 'FAILED') return base;
  const { state, runDir, summary } = await runResult(run);
  const { completed, failed, notRun } = summary.items;
  return { ...base, state, items: { done: completed + failed, total: completed + failed + notRun }, folder: runDir };
}
