/**
 * A submit or fetch inside a workflow task that hands its work to the scheduled activity is
 * routine under load (a busy request limiter, a large body), not a failure: the worker logs it at
 * debug and warns of nothing, and the job's own log says nothing of it either. A million texts
 * once printed nearly ten thousand "Activity failed" warnings, about one a job.
 */
import { type ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_CONCURRENT_TRANSFERS, sharedTransferSlots } from '../../src/hume/transfer-slots.js';
import { FETCH_HANDED_OVER, humeJob, SUBMIT_HANDED_OVER } from '../../src/workflows/index.js';
import { type Stack, startStack } from '../helpers/hume-stack.js';
import { installQuietRuntime, uniqueId } from '../helpers/temporal.js';

const config = { models: { language: { sentiment: {} } } };
/** One prediction per text (one sentence each): 600 KiB of words would otherwise be 120,000 predictions. */
const perText = { models: { language: { granularity: 'sentence' as const } } };
const entries: LogEntry[] = [];

let stack: Stack;
beforeAll(async () => {
  // Every level is kept for the test to read; warnings and errors still print.
  installQuietRuntime(
    new DefaultLogger('DEBUG', (entry) => {
      entries.push(entry);
      if (entry.level === 'WARN' || entry.level === 'ERROR') console.warn(entry.level, entry.message, entry.meta);
    }),
  );
  stack = await startStack();
});
afterAll(() => stack?.close());

const run = (texts: string[], modelConfig: typeof config | typeof perText = config) =>
  stack.temporal.client.workflow.execute(humeJob, {
    taskQueue: stack.temporal.taskQueue,
    workflowId: uniqueId('hand-over'),
    args: [{ resultDir: stack.resultDir(), texts, config: modelConfig, polling: { firstPollAfter: '1 hour' } }],
  });

const failedActivities = () => entries.filter((e) => e.message === 'Activity failed');
const typeOf = (e: LogEntry) => (e.meta?.error as ApplicationFailure | undefined)?.type;

describe('an activity inside a workflow task that hands its work over', () => {
  it('is logged at debug, benign, and warns of nothing: a fetch without a free transfer slot, a submit of more than 512 KiB', async () => {
    // Every transfer slot of the worker held: the callback's fetch inside the task finds none
    // within IN_TASK_SLOT_WAIT_MS; the scheduled fetch gets one once they are given back.
    const slots = sharedTransferSlots(stack.emulator.url, DEFAULT_MAX_CONCURRENT_TRANSFERS);
    const held = await Promise.all(Array.from({ length: slots.max }, () => slots.acquire()));
    const fetched = run(['The fetch waits for a transfer slot.']);
    await expect.poll(() => failedActivities().map(typeOf)).toEqual([FETCH_HANDED_OVER]);
    for (const release of held) release();
    expect((await fetched).status).toBe('COMPLETED');
    // 600 KiB of texts: too large a body for a workflow task.
    expect((await run(Array.from({ length: 10 }, (_, i) => `${i} ${'word '.repeat(12_000)}`), perText)).status).toBe('COMPLETED');

    const handOvers = failedActivities();
    expect(handOvers.map(typeOf)).toEqual([FETCH_HANDED_OVER, SUBMIT_HANDED_OVER]);
    for (const entry of handOvers) {
      expect(entry.level).toBe('DEBUG');
      expect((entry.meta?.error as ApplicationFailure).category).toBe(ApplicationFailureCategory.BENIGN);
    }
    expect(entries.filter((e) => e.level === 'WARN' || e.level === 'ERROR')).toEqual([]);
    expect(entries.filter((e) => /by a scheduled activity after the local one could not/.test(e.message))).toEqual([]);
  });
});
