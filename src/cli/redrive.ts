/** `temporal-hume redrive <run-id>`: re-runs only the failed and never-run items of a finished run. */
import { Command } from 'commander';
import { redriveRun } from '../client.js';
import { loadHumeEnv } from '../config.js';
import { followStarted } from './run.js';
import { connectTemporal, runIdCommand, type RunIdFlags } from './temporal.js';

interface RedriveFlags extends RunIdFlags {
  taskQueue?: string;
  wait: boolean;
}

export function redriveCommand(): Command {
  return runIdCommand(
    'redrive',
    're-run only the failed and never-run items of a finished run, into the same folder (index, CSVs and summary are rewritten); the original run\'s settings apply',
  )
    .option('--task-queue <queue>', 'the workers\' task queue (default: TEMPORAL_TASK_QUEUE or temporal-hume)')
    .option('--no-wait', 'print the run id and workflow id and exit once the redrive has started')
    .action(async (runId: string, flags: RedriveFlags) => {
      const env = loadHumeEnv();
      const session = await connectTemporal(flags);
      try {
        const run = await redriveRun(session.client, runId, { taskQueue: flags.taskQueue ?? env.TEMPORAL_TASK_QUEUE });
        await followStarted(run, runId, flags, session);
      } finally {
        await session.close();
      }
    });
}
