import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRun } from '../../src/client.js';
import { type DevServer, startDevServer } from '../../src/devserver/index.js';
import { humeJob, jobFinishedSignal, statusQuery } from '../../src/workflows/index.js';
import { eventsByTask, payloadsIn } from '../helpers/history.js';
import { type Stack, startStack } from '../helpers/hume-stack.js';
import { continueWithAStartPending, startSlowChildStartsStack } from '../helpers/pending-start.js';
import { uniqueId } from '../helpers/temporal.js';
import { continueByUpdates, continueUnderUpdates } from '../helpers/update-tipped.js';

const SUGGESTS_AT = 60;

describe('humeBatch on a server that suggests continue-as-new early', () => {
  let server: DevServer;
  let stack: Stack;

  beforeAll(async () => {
    server = await startDevServer({ headless: true, dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': SUGGESTS_AT } });
    stack = await startStack({ temporalAddress: server.address, emulator: { timing: { queuedMs: 5, processingMs: [10, 40] } } });
  });
  afterAll(async () => {
    await stack.close();
    await server.stop();
  });

  it('continues as new, keeps its window and counters, and every item lands once', async () => {
    const items = Array.from({ length: 40 }, (_, i) => ({ id: `t${i}`, text: `continue as new ${i}` }));
    const outDir = mkdtempSync(join(tmpdir(), 'can-'));
    const run = await startRun(
      stack.temporal.client,
      { runId: uniqueId('can'), outDir, items, config: { models: { language: {} } }, maxJobsInFlight: 3, limits: { maxTextsPerJob: 1 } },
      { taskQueue: stack.temporal.taskQueue },
    );
    const result = await run.result();
    const progress = await run.progress();
    expect(progress.continuedAsNew).toBeGreaterThanOrEqual(1);
    expect(progress).toMatchObject({ items: { completed: 40, failed: 0 }, jobs: { planned: 40, completed: 40 }, humeJobsCreated: 40 });
    const index = (await readFile(join(result.runDir, 'index.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(index.map((row) => row.id).sort()).toEqual(items.map((item) => item.id).sort());
    expect(index.every((row) => row.status === 'completed')).toBe(true);

    // Each run of the chain stayed short: the parent continued-as-new soon after the server suggested it.
    const chain = [];
    for await (const execution of stack.temporal.client.workflow.list({ query: `WorkflowId = "${run.workflow.workflowId}"` })) {
      chain.push(execution);
    }
    expect(chain.length).toBe(progress.continuedAsNew + 1);
    for (const execution of chain) expect(execution.historyLength).toBeLessThan(150);
  });

  it('finds a job carried across continue-as-new that an operator terminated, reports it failed, and finalizes', async () => {
    stack.emulator.setFaults({ callbackDropRate: 1 });
    const outDir = mkdtempSync(join(tmpdir(), 'can-sup-'));
    try {
      const items = Array.from({ length: 3 }, (_, i) => ({ id: `s${i}`, text: `supervised ${i}` }));
      const run = await startRun(
        stack.temporal.client,
        { runId: uniqueId('can-sup'), outDir, items, config: { models: { language: {} } }, maxJobsInFlight: 3, limits: { maxTextsPerJob: 1 }, polling: { firstPollAfter: '1 hour' } },
        { taskQueue: stack.temporal.taskQueue },
      );
      const batch = (b: number) => stack.temporal.client.workflow.getHandle(`${run.workflow.workflowId}/batch-${b}`);
      const jobIds = await Promise.all([0, 1, 2].map(async (b) => {
        await expect.poll(async () => (await batch(b).query(statusQuery).catch(() => undefined))?.phase).toBe('waiting');
        return (await batch(b).query(statusQuery)).jobId!;
      }));
      // Updates grow the parent's history until the server suggests continue-as-new: the jobs are carried.
      for (let i = 0; (await run.progress()).continuedAsNew === 0 && i < 40; i++) await run.setMaxJobsInFlight(3);
      expect((await run.progress()).continuedAsNew).toBe(1);
      await batch(0).terminate('operator test');
      await expect.poll(async () => (await run.progress()).jobs.failed, { timeout: 90_000, interval: 1_000 }).toBe(1);
      expect((await run.progress()).failures).toEqual([{ batch: 0, error: 'terminated by operator' }]);
      // The terminated batch's Hume job is counted all the same: supervision read it from the submissions journal.
      expect((await run.progress()).humeJobsCreated).toBe(1);
      for (const b of [1, 2]) await batch(b).signal(jobFinishedSignal, { jobId: jobIds[b]!, status: 'COMPLETED' });
      const result = await run.result();
      expect(result.summary.items).toMatchObject({ completed: 2, failed: 1 });
      expect((await run.progress()).humeJobsCreated).toBe(3);
      // The run that did not start them asked them to report, and they did, by signal.
      for (const b of [1, 2]) {
        const events = (await batch(b).fetchHistory()).events!;
        expect(events.some((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'reportWhenDone')).toBe(true);
        expect(events.filter((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes?.signalName === 'batchFinished')).toHaveLength(1);
      }
      const reports = (await run.workflow.fetchHistory()).events!.filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'batchFinished');
      expect(reports).toHaveLength(2);
    } finally {
      stack.emulator.setFaults({ callbackDropRate: 0 });
    }
  }, 150_000);

  it('answers an update in a workflow task of its own before continuing as new, so a refused task cannot lose the answer', async () => {
    // The server refuses a task that continues as new while an event waits (UNHANDLED_COMMAND),
    // and with it any update that task answered: the caller would get "unexpected workflow task
    // failure" and the run would go on without the change.
    const { run, firstRunId, lastWindow } = await continueByUpdates(stack, mkdtempSync(join(tmpdir(), 'can-update-')), SUGGESTS_AT);
    const tasks = eventsByTask(await stack.temporal.client.workflow.getHandle(run.workflow.workflowId, firstRunId).fetchHistory());
    // The task that continued as new answered nothing: the task that answered the tipping update
    // set a timer instead (more updates may have been answered before it fired).
    expect(tasks.at(-1)).toEqual(['WORKFLOW_EXECUTION_CONTINUED_AS_NEW']);
    expect(tasks.at(-2)?.at(-1)).toBe('TIMER_FIRED');
    expect(tasks.some((t) => t.includes('WORKFLOW_EXECUTION_UPDATE_COMPLETED') && t.includes('TIMER_STARTED'))).toBe(true);
    // Every answer held: the last one is the next run's window.
    expect((await run.progress()).maxJobsInFlight).toBe(lastWindow);
    expect((await run.result()).summary.items).toMatchObject({ completed: 1, failed: 0 });
  });

  it('continues as new while four clients keep sending updates, deferring the move at most 10 times', async () => {
    // The server fires no timer while updates keep the run busy: the run moves on at the next
    // task, whatever brought it, not only at its 1 ms timer.
    const { run, firstRunId, continued } = await continueUnderUpdates(stack, mkdtempSync(join(tmpdir(), 'can-updates-')));
    expect(continued).toBe(1);
    const timers = eventsByTask(await stack.temporal.client.workflow.getHandle(run.workflow.workflowId, firstRunId).fetchHistory())
      .flat()
      .filter((type) => type === 'TIMER_STARTED');
    expect(timers.length).toBeGreaterThanOrEqual(1);
    expect(timers.length).toBeLessThanOrEqual(10);
    expect((await run.result()).summary.items).toMatchObject({ completed: 1, failed: 0 });
  });

  it('supervises a continued run without failing a batch whose child start is still pending', async () => {
    const slowStarts = await startSlowChildStartsStack(server.address);
    try {
      const run = await continueWithAStartPending(slowStarts, mkdtempSync(join(tmpdir(), 'can-pending-')));
      const progress = await run.progress();
      expect(progress).toMatchObject({ state: 'completed', items: { completed: 3, failed: 0 }, failures: [] });
      // The look-up met the pending start: its decision is in the history of a continued run (the
      // second, unless a busy server suggested continuing once more while batch 2 ran).
      const patches: string[] = [];
      for await (const execution of slowStarts.temporal.client.workflow.list({ query: `WorkflowId = "${run.workflow.workflowId}"` })) {
        const { events } = await slowStarts.temporal.client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
        for (const { path, payload } of payloadsIn(events)) {
          if (/\.markerRecordedEventAttributes\.details\.patch-data\.payloads\.\d+$/.test(path)) patches.push(JSON.parse(Buffer.from(payload.data!).toString()).id);
        }
      }
      expect(patches).toContain('settle-started-batches-only');
    } finally {
      await slowStarts.close();
    }
  }, 240_000);

  it('continues a long job as new when the server suggests it, with one Hume job throughout', async () => {
    const slow = await startStack({ temporalAddress: server.address, callbacks: false, emulator: { timing: { queuedMs: 10, processingMs: 15_000 } } });
    try {
      const handle = await slow.temporal.client.workflow.start(humeJob, {
        taskQueue: slow.temporal.taskQueue,
        workflowId: uniqueId('long-job'),
        args: [{ texts: ['a long one'], config: { models: { language: {} } }, resultDir: slow.resultDir(), polling: { firstPollAfter: 100, maxInterval: 200 } }],
      });
      const result = await handle.result();
      expect(result).toMatchObject({ status: 'COMPLETED', attempts: 1, jobIds: [result.jobId] });
      expect(slow.emulator.stats().jobsCreated).toBe(1);
      const chain = [];
      for await (const execution of slow.temporal.client.workflow.list({ query: `WorkflowId = "${handle.workflowId}"` })) chain.push(execution);
      expect(chain.filter((e) => e.status.name === 'CONTINUED_AS_NEW').length).toBeGreaterThanOrEqual(1);
      for (const execution of chain) expect(execution.historyLength).toBeLessThan(150);
    } finally {
      await slow.close();
    }
  });
});
