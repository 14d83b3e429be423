/** `pause`, `resume`, `resize` and `cancel`: steering a running run. A run that has ended cannot be steered (exit 1). */
import type { Command } from 'commander';
import type { RunHandle } from '../client.js';
import type { RunProgress } from '../workflows/definitions.js';
import { CliError, EXIT, usageError } from './errors.js';
import { printJson } from './output.js';
import { describeProgress } from './progress.js';
import { type FoundRun, runIdCommand, type RunIdFlags, withRun } from './temporal.js';

function mustBeRunning(found: FoundRun, verb: string): void {
  if (found.status !== 'RUNNING') {
    throw new CliError(`run ${found.workflowId} has ended (${found.status.toLowerCase()}): nothing to ${verb}`, EXIT.failed);
  }
}

/** An update that answers with the run's progress, printed as a line or as JSON. */
function updateCommand(name: 'pause' | 'resume', description: string, update: (run: RunHandle) => Promise<RunProgress>): Command {
  return runIdCommand(name, description).action(async (runId: string, flags: RunIdFlags) => {
    await withRun(runId, flags, async (found) => {
      mustBeRunning(found, name);
      const progress = await update(found.run);
      if (flags.json) printJson({ workflowId: found.workflowId, progress });
      else process.stdout.write(`${describeProgress(progress)}\n`);
    });
  });
}

export const pauseCommand = () =>
  updateCommand('pause', 'stop submitting new Hume jobs; jobs in flight finish', (run) => run.pause());

export const resumeCommand = () => updateCommand('resume', 'submit new Hume jobs again after a pause', (run) => run.resume());

/** Hume's queue limit, as the run's update validator enforces it. */
const MAX_JOBS_IN_FLIGHT = 500;

export function resizeCommand(): Command {
  return runIdCommand('resize', "change a running run's window: Hume jobs queued or running at once (1-500); takes effect as batches finish")
    .argument('<max-jobs-in-flight>', 'the new window, 1-500')
    .action(async (runId: string, value: string, flags: RunIdFlags) => {
      const max = Number(value);
      if (!Number.isInteger(max) || max < 1 || max > MAX_JOBS_IN_FLIGHT) {
        throw usageError(`invalid <max-jobs-in-flight>: an integer from 1 to ${MAX_JOBS_IN_FLIGHT}, got ${JSON.stringify(value)}`);
      }
      await withRun(runId, flags, async (found) => {
        mustBeRunning(found, 'resize');
        const progress = await found.run.setMaxJobsInFlight(max);
        if (flags.json) printJson({ workflowId: found.workflowId, progress });
        else process.stdout.write(`max jobs in flight ${progress.maxJobsInFlight}; ${describeProgress(progress)}\n`);
      });
    });
}

export function cancelCommand(): Command {
  return runIdCommand(
    'cancel',
    'cancel a run: no new jobs; jobs in flight finish or are abandoned (as the run was started with --on-cancel), then the results folder is written',
  )
    .option('--abandon', 'end the run now, stuck or not (also one already draining): cancel its jobs in flight, record the Hume jobs they leave, write the folder')
    .action(async (runId: string, flags: RunIdFlags & { abandon?: boolean }) => {
    await withRun(runId, flags, async (found) => {
      mustBeRunning(found, 'cancel');
      await found.run.cancel({ abandon: flags.abandon });
      if (flags.json) printJson({ workflowId: found.workflowId, cancelRequested: true });
      else process.stdout.write(`cancellation requested for ${found.workflowId}; follow it with: temporal-hume status ${runId}\n`);
    });
  });
}
