/**
 * A continued run that looks its carried batches up while a batch's child start is still pending:
 * the moment supervision once took for a batch gone (its child not there yet) and failed it.
 * Shared by the test that guards it and the recording that replays it.
 */
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { type RunHandle, startRun } from '../../src/client.js';
import { jobFinishedSignal, statusQuery } from '../../src/workflows/index.js';
import { type Stack, startStack } from './hume-stack.js';
import { uniqueId } from './temporal.js';

/** The interceptor that makes a continued run's child starts resolve 40 s late; its recordings replay with it. */
export const SLOW_CHILD_STARTS = fileURLToPath(new URL('../fixtures/slow-child-starts.ts', import.meta.url));
/** Recordings of this path start with this name. */
export const PENDING_START_RECORDING = 'batch-start-pending';

/** A stack on `temporalAddress` (a server that suggests continue-as-new early) with child starts slowed down. */
export function startSlowChildStartsStack(temporalAddress: string): Promise<Stack> {
  return startStack({ temporalAddress, emulator: { timing: { queuedMs: 5, processingMs: 10 } }, workflowInterceptorModules: [SLOW_CHILD_STARTS] });
}

/**
 * Three one-text batches, two in flight, on a server that suggests continue-as-new early: the
 * continued run supervises batches 0 and 1 (it did not start them) and looks them up at once;
 * batch 0's end frees a place, and batch 2 is in flight with its start pending (held by the
 * interceptor) when supervision looks again 30 s later. Callbacks are dropped and polls an hour
 * apart, so each job ends when told to.
 */
export async function continueWithAStartPending(stack: Stack, outDir: string): Promise<RunHandle> {
  stack.emulator.setFaults({ callbackDropRate: 1 });
  try {
    const items = Array.from({ length: 3 }, (_, i) => ({ id: `p${i}`, text: `pending start ${i}` }));
    const run = await startRun(
      stack.temporal.client,
      { runId: uniqueId('pending-start'), outDir, items, config: { models: { language: {} } }, maxJobsInFlight: 2, limits: { maxTextsPerJob: 1 }, polling: { firstPollAfter: '1 hour' } },
      { taskQueue: stack.temporal.taskQueue },
    );
    const batch = (b: number) => stack.temporal.client.workflow.getHandle(`${run.workflow.workflowId}/batch-${b}`);
    const waiting = (b: number) => expect.poll(async () => (await batch(b).query(statusQuery).catch(() => undefined))?.phase, { timeout: 90_000 }).toBe('waiting');
    const finish = async (b: number) => {
      await waiting(b);
      await batch(b).signal(jobFinishedSignal, { jobId: (await batch(b).query(statusQuery)).jobId!, status: 'COMPLETED' });
    };
    for (const b of [0, 1]) await waiting(b);
    // Updates grow the parent's history until the server suggests continue-as-new: the jobs are carried.
    for (let i = 0; (await run.progress()).continuedAsNew === 0 && i < 40; i++) await run.setMaxJobsInFlight(2);
    expect((await run.progress()).continuedAsNew).toBe(1);
    for (const b of [0, 1, 2]) await finish(b);
    await run.result();
    return run;
  } finally {
    stack.emulator.setFaults({ callbackDropRate: 0 });
  }
}
