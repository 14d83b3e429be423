/** `temporal-hume redrive <run-id>`: re-runs only the failed and never-run items of a finished run. */
import { Command } from 'commander';
import { redriveRun } from '../client.js';
import { loadHumeEnv } from '../config.js';
import { HumeBatchInput } from '../schemas/inputs.js';
import { usageError } from './errors.js';
import { followStarted } from './run.js';
import { describeFlagIssues, integerArg } from './run-input.js';
import { connectTemporal, runIdCommand, type RunIdFlags } from './temporal.js';

interface RedriveFlags extends RunIdFlags {
  taskQueue?: string;
  maxJobsInFlight?: number;
  wait: boolean;
}

/** The window is set by update right after the start; the run keeps updates sent while it plans. */

export function redriveCommand(): Command {
  return runIdCommand(
    'redrive',
    're-run only the failed and never-run items of a finished run, into the same folder (index, CSVs and summary are rewritten); the original run\'s settings apply',
  )
    .option('--max-jobs-in-flight <n>', 'Hume jobs queued or running at once for the redrive, 1-500 (default: 100)', integerArg)
    .option('--task-queue <queue>', 'the workers\' task queue (default: TEMPORAL_TASK_QUEUE or temporal-hume)')
    .option('--no-wait', 'print the run id and workflow id and exit once the redrive has started')
    .action(async (runId: string, flags: RedriveFlags) => {
      if (flags.maxJobsInFlight !== undefined) {
        const checked = HumeBatchInput.safeParse({ runId, outDir: '.', redrive: true, maxJobsInFlight: flags.maxJobsInFlight });
        if (!checked.success) throw usageError(describeFlagIssues(checked.error));
      }
      const env = loadHumeEnv();
      const session = await connectTemporal(flags);
      try {
        const run = await redriveRun(session.client, runId, { taskQueue: flags.taskQueue ?? env.TEMPORAL_TASK_QUEUE, maxJobsInFlight: flags.maxJobsInFlight });
        await followStarted(run, runId, flags, session);
      } finally {
        await session.close();
      }
    });
}
