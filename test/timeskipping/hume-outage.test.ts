/**
 * A six-hour Hume outage, waited out by one job on Temporal's time-skipping test server: the state
 * checks fail for hours, and the job pays for it with durable timers at growing intervals, not with
 * events every few seconds. Then Hume answers again and the job completes with its one Hume job.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HumeEmulator, startHumeEmulator } from '../../src/emulator/index.js';
import { createHumeWorker } from '../../src/worker.js';
import { humeJob, statusQuery } from '../../src/workflows/index.js';
import { API_KEY } from '../helpers/hume-stack.js';
import { testWorkflowBundle } from '../helpers/temporal.js';
import { startTimeSkippingEnv } from '../helpers/time-skipping.js';

/** The stated bound: a 6-hour outage costs a job at most this many history events (the old code: ~8,000). */
const MAX_EVENTS_FOR_A_SIX_HOUR_OUTAGE = 400;

describe('a job through a six-hour Hume outage (time-skipping server)', () => {
  let env: TestWorkflowEnvironment;
  let emulator: HumeEmulator;

  beforeAll(async () => {
    env = await startTimeSkippingEnv();
    emulator = await startHumeEmulator({ apiKey: API_KEY, timing: { queuedMs: 10, processingMs: 20 } });
  });
  afterAll(async () => {
    await emulator?.close();
    await env?.teardown();
  });

  it('waits it out on timers, keeps its history small, and completes with one Hume job', async () => {
    const taskQueue = `outage-${randomUUID()}`;
    const worker = await createHumeWorker({
      connection: env.nativeConnection,
      taskQueue,
      hume: { apiKey: API_KEY, baseUrl: emulator.url, maxRequestsPerSecond: 1_000 },
      workerOptions: { workflowBundle: await testWorkflowBundle() },
    });
    const outcome = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(humeJob, {
        taskQueue,
        workflowId: `outage-${randomUUID()}`,
        args: [{ texts: ['through the outage'], config: { models: { language: {} } }, resultDir: mkdtempSync(join(tmpdir(), 'outage-')), polling: { firstPollAfter: '1 minute' } }],
      });
      await expect.poll(async () => (await handle.query(statusQuery)).phase).toBe('waiting');
      // Hume answers every request with a 5xx for six hours of workflow time.
      emulator.setFaults({ serverErrorRate: 1, retryAfterSeconds: 0 });
      const checksBefore = emulator.stats().requests.details;
      await env.sleep('6 hours');
      const during = await handle.query(statusQuery);
      const checks = emulator.stats().requests.details - checksBefore;
      emulator.setFaults({ serverErrorRate: 0 });
      const result = await handle.result();
      const events = (await handle.fetchHistory()).events ?? [];
      return { during, checks, result, events: events.length };
    });

    expect(outcome.during).toMatchObject({ phase: 'waiting', attempt: 1 });
    expect(outcome.during.lastError).toMatch(/cannot check Hume job .*5\d\d/);
    // Checks at growing intervals up to 10 minutes: about 40 in six hours, each tried 3 times in its task.
    expect(outcome.during.checkFailures).toBeGreaterThanOrEqual(30);
    expect(outcome.during.checkFailures).toBeLessThanOrEqual(50);
    expect(outcome.checks).toBeLessThanOrEqual(3 * 50);
    expect(outcome.result).toMatchObject({ status: 'COMPLETED', attempts: 1, jobIds: [outcome.result.jobId] });
    expect(emulator.stats().jobsCreated).toBe(1);
    console.log(`six-hour outage: ${outcome.during.checkFailures} failed checks, ${outcome.checks} requests, ${outcome.events} history events`);
    expect(outcome.events).toBeLessThan(MAX_EVENTS_FOR_A_SIX_HOUR_OUTAGE);
  }, 300_000);
});
