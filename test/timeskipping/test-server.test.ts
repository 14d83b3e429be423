/**
 * The time-skipping test server (the Java build from Maven Central, see src/devserver/test-server.ts) runs
 * a real workflow: 15 hours of timers in seconds, across a continue-as-new, with a local activity, a memo
 * upsert, a signal, a query and an update, and its history can be read back. Our search attributes are
 * registered, as on the dev server.
 */
import { randomUUID } from 'node:crypto';
import { defaultPayloadConverter, defineSearchAttributeKey, SearchAttributeType, TypedSearchAttributes } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bumpUpdate, pokeSignal, probeStateQuery, type ProbeActivities, timeSkippingProbe } from '../fixtures/time-skipping.js';
import { startTimeSkippingEnv, timeSkippingBundle } from '../helpers/time-skipping.js';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const HOUR_S = 3600;

describe('time-skipping test server', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await startTimeSkippingEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  /** Runs `body` with a worker for the probe workflow on a task queue of its own. */
  async function withWorker<T>(body: (taskQueue: string) => Promise<T>): Promise<T> {
    const taskQueue = `time-skipping-${randomUUID()}`;
    const activities: ProbeActivities = { stamp: async (round) => `stamp-${round}` };
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await timeSkippingBundle(), activities });
    return worker.runUntil(body(taskQueue));
  }

  it('skips hours of timers across a continue-as-new, with local activity, memo, signal, query and update', async () => {
    const result = await withWorker(async (taskQueue) => {
      const handle = await env.client.workflow.start(timeSkippingProbe, { taskQueue, workflowId: `probe-${randomUUID()}` });
      // Time stands still until a client awaits the result: the workflow sits in its 6-hour sleep meanwhile.
      await expect.poll(() => handle.query(probeStateQuery)).toEqual({ round: 0, stage: 'sleeping', pokes: 0 });
      await handle.signal(pokeSignal);
      expect(await handle.executeUpdate(bumpUpdate, { args: [2] })).toBe(2);
      expect(await handle.executeUpdate(bumpUpdate, { args: [3] })).toBe(5);
      expect(await handle.query(probeStateQuery)).toEqual({ round: 0, stage: 'sleeping', pokes: 1 });

      const startedAt = Date.now();
      const result = await handle.result();
      const realMs = Date.now() - startedAt;

      const firstRun = (await env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).fetchHistory()).events ?? [];
      const lastRun = (await handle.fetchHistory()).events ?? [];
      const description = await handle.describe();
      return { result, realMs, firstRun, lastRun, description };
    });

    // 6 h + 6 h + 3 h of workflow time (round 0's condition held at once: the signal came during the sleep).
    expect(result.result).toEqual({ rounds: 2, pokes: 1, stamps: ['stamp-0', 'stamp-1'], signalled: [true, false], elapsedMs: expect.any(Number) });
    expect(result.result.elapsedMs).toBeGreaterThanOrEqual(15 * HOUR_S * 1000);
    expect(result.realMs).toBeLessThan(30_000);

    const { firstRun, lastRun } = result;
    expect(firstRun.filter((e) => e.markerRecordedEventAttributes)).toHaveLength(1); // the local activity
    expect(memoUpserts(firstRun)).toEqual([{ round: 0 }]);
    expect(firstRun.filter((e) => e.workflowExecutionSignaledEventAttributes)).toHaveLength(1);
    expect(firstRun.filter((e) => e.workflowExecutionUpdateCompletedEventAttributes)).toHaveLength(2);
    expect(firstRun.at(-1)?.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();

    expect(memoUpserts(lastRun)).toEqual([{ round: 1 }]);
    expect(timersFired(lastRun)).toEqual([6 * HOUR_S, 3 * HOUR_S]);
    expect(lastRun.at(-1)?.workflowExecutionCompletedEventAttributes).toBeTruthy();
    expect(result.description.status.name).toBe('COMPLETED');
    expect(result.description.memo).toEqual({ round: 1 });
  });

  it('starts runs with our search attributes, registered by the helper', async () => {
    const runIdKey = defineSearchAttributeKey('HumeRunId', SearchAttributeType.KEYWORD);
    const found = await withWorker(async (taskQueue) => {
      const handle = await env.client.workflow.start(timeSkippingProbe, {
        taskQueue,
        workflowId: `probe-${randomUUID()}`,
        typedSearchAttributes: new TypedSearchAttributes([{ key: runIdKey, value: 'run-1' }]),
      });
      const { typedSearchAttributes } = await handle.describe();
      await handle.signal(pokeSignal);
      await handle.result();
      return typedSearchAttributes.get(runIdKey);
    });
    expect(found).toBe('run-1');
  });
});

function memoUpserts(events: HistoryEvent[]): unknown[] {
  return events
    .map((e) => e.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields)
    .filter((fields) => fields != null)
    .map((fields) => Object.fromEntries(Object.entries(fields).map(([key, payload]) => [key, defaultPayloadConverter.fromPayload(payload)])));
}

/** Timeouts, in seconds, of the timers that fired, in order. */
function timersFired(events: HistoryEvent[]): number[] {
  const started = new Map<string, number>();
  for (const e of events) {
    const timer = e.timerStartedEventAttributes;
    if (timer?.timerId) started.set(timer.timerId, Number(timer.startToFireTimeout?.seconds ?? 0));
  }
  return events.flatMap((e) => (e.timerFiredEventAttributes?.timerId ? [started.get(e.timerFiredEventAttributes.timerId) ?? -1] : []));
}
