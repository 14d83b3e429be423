/**
 * A run tipped over the server's continue-as-new suggestion by an update, nothing else happening:
 * the task that answers it must not be the one that continues as new. Shared by the test that
 * guards it and the recording that replays it.
 */
import { expect } from 'vitest';
import { type RunHandle, startRun } from '../../src/client.js';
import { jobFinishedSignal, statusQuery } from '../../src/workflows/index.js';
import type { Stack } from './hume-stack.js';
import { uniqueId } from './temporal.js';

/** Recordings of this path start with this name. */
export const UPDATE_TIPPED_RECORDING = 'batch-update-tipped';
/** Recordings of a run continuing as new under updates without pause start with this name. */
export const UPDATE_FLOOD_RECORDING = 'batch-update-flood';

export interface UpdateTipped {
  run: RunHandle;
  /** The run that answered the updates and continued as new. */
  firstRunId: string;
  /** The window the last update set, which the next run must have. */
  lastWindow: number;
}

/** A run of one one-text batch that waits (callbacks dropped, polls an hour apart) until told it completed. */
export async function startOneWaitingBatch(stack: Stack, outDir: string) {
  const run = await startRun(
    stack.temporal.client,
    { runId: uniqueId('can-update'), outDir, items: [{ id: 'u0', text: 'updated' }], config: { models: { language: {} } }, polling: { firstPollAfter: '1 hour' } },
    { taskQueue: stack.temporal.taskQueue },
  );
  const batch = stack.temporal.client.workflow.getHandle(`${run.workflow.workflowId}/batch-0`);
  await expect.poll(async () => (await batch.query(statusQuery).catch(() => undefined))?.phase).toBe('waiting');
  const { runId: firstRunId } = await run.workflow.describe();
  const complete = async () => batch.signal(jobFinishedSignal, { jobId: (await batch.query(statusQuery)).jobId!, status: 'COMPLETED' });
  return { run, firstRunId, complete };
}

/**
 * `startOneWaitingBatch` while updates resize the window, alternating 2 and 3, one at a time, until
 * the run's history reaches `suggestsAt` events (where the server suggests continue-as-new), and
 * one more: an update is answered in the task that first sees the suggestion (the loop's last, or
 * that one), and the run continues. Then the batch is told it completed, and the run ends.
 * Callbacks are dropped meanwhile.
 */
export async function continueByUpdates(stack: Stack, outDir: string, suggestsAt: number): Promise<UpdateTipped> {
  stack.emulator.setFaults({ callbackDropRate: 1 });
  try {
    const { run, firstRunId, complete } = await startOneWaitingBatch(stack, outDir);
    let lastWindow = 0;
    const resize = () => run.setMaxJobsInFlight((lastWindow = lastWindow === 2 ? 3 : 2));
    while ((await run.workflow.describe()).historyLength < suggestsAt) await resize();
    await resize();
    // Sent one at a time, nothing else arriving: the task after the tipping one is quiet.
    await expect.poll(async () => (await run.progress()).continuedAsNew).toBe(1);
    await complete();
    return { run, firstRunId, lastWindow };
  } finally {
    stack.emulator.setFaults({ callbackDropRate: 0 });
  }
}

/**
 * `startOneWaitingBatch` while four clients send updates without pause, each its next as soon as
 * its last is answered (most tasks answer one), until the run continues as new or 400 are sent.
 * Then the batch is told it completed, and the run ends. Callbacks are dropped meanwhile.
 */
export async function continueUnderUpdates(stack: Stack, outDir: string): Promise<Omit<UpdateTipped, 'lastWindow'> & { continued: number }> {
  stack.emulator.setFaults({ callbackDropRate: 1 });
  try {
    const { run, firstRunId, complete } = await startOneWaitingBatch(stack, outDir);
    let sent = 0;
    await Promise.all([2, 3, 2, 3].map(async (window) => {
      while ((await run.progress()).continuedAsNew === 0 && sent < 400) {
        sent++;
        await run.setMaxJobsInFlight(window);
      }
    }));
    const { continuedAsNew: continued } = await run.progress();
    await complete();
    return { run, firstRunId, continued };
  } finally {
    stack.emulator.setFaults({ callbackDropRate: 0 });
  }
}
