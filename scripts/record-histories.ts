/**
 * Records the histories the replay tests replay: one per representative path through humeJob and
 * humeBatch. Run with `npm run record:histories` after a deliberate, `patched`-guarded change.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRun } from '../src/client.js';
import { type DevServer, startDevServer } from '../src/devserver/index.js';
import { humeJob, jobFinishedSignal, statusQuery } from '../src/workflows/index.js';
import { type Stack, startStack } from '../test/helpers/hume-stack.js';
import { continueWithAStartPending, PENDING_START_RECORDING, SLOW_CHILD_STARTS, startSlowChildStartsStack } from '../test/helpers/pending-start.js';
import { uniqueId } from '../test/helpers/temporal.js';
import { continueByUpdates, continueUnderUpdates, UPDATE_FLOOD_RECORDING, UPDATE_TIPPED_RECORDING } from '../test/helpers/update-tipped.js';
import { interceptorEntry, type Recording } from '../test/replay/recording.js';

const out = fileURLToPath(new URL('../test/replay/histories/', import.meta.url));
const config = { models: { language: { sentiment: {} } } };
const SUGGESTS_AT = 60;
let server: DevServer;
let stack: Stack;
let dir: string;

beforeAll(async () => {
  server = await startDevServer({ headless: true, dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': SUGGESTS_AT } });
  stack = await startStack({ temporalAddress: server.address, emulator: { timing: { queuedMs: 5, processingMs: [10, 40] } } });
  dir = mkdtempSync(join(tmpdir(), 'record-'));
});
afterAll(async () => {
  await stack.close();
  await server.stop();
});

async function save(name: string, handle: WorkflowHandle, { runId, interceptors = [] }: { runId?: string; interceptors?: string[] } = {}) {
  const history = await stack.temporal.client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
  const recording: Recording = {
    workflowId: handle.workflowId,
    ...(interceptors.length ? { interceptors: interceptors.map(interceptorEntry) } : {}),
    history: JSON.parse(historyToJSON(history)),
  };
  // The corpus is append-only (CONTRIBUTING.md): a recording that exists gets a dated sibling, and its line in corpus.sha256.
  let file = `${name}.json`;
  for (let n = 1; existsSync(join(out, file)); n++) file = `${name}-${new Date().toISOString().slice(0, 10)}-${n}.json`;
  const text = `${JSON.stringify(recording, null, 1)}\n`;
  writeFileSync(join(out, file), text);
  appendFileSync(join(out, '..', 'corpus.sha256'), `${createHash('sha256').update(text).digest('hex')}  ${file}\n`);
}

const startJob = (input: Record<string, unknown>, on = stack) =>
  on.temporal.client.workflow.start(humeJob, {
    taskQueue: on.temporal.taskQueue,
    workflowId: uniqueId('record-job'),
    args: [{ texts: ['Recorded for replay.'], config, resultDir: join(dir, uniqueId('job')), polling: { firstPollAfter: 500 }, resubmitDelay: 200, ...input }],
  });

it('records humeJob paths', async () => {
  const callback = await startJob({});
  await callback.result();
  await save('job-callback', callback);

  stack.emulator.failNextJobs(1, 'recorded failure');
  const resubmitted = await startJob({});
  await resubmitted.result();
  await save('job-resubmitted', resubmitted);

  stack.emulator.failNextJobs(2, 'recorded failure');
  const failed = await startJob({ maxJobAttempts: 2 });
  await expect(failed.result()).rejects.toThrow();
  await save('job-failed', failed);

  stack.emulator.setFaults({ callbackDropRate: 1 });
  const cancelled = await startJob({ polling: { firstPollAfter: '1 hour' } });
  await expect.poll(async () => (await cancelled.query(statusQuery)).phase).toBe('waiting');
  await cancelled.cancel();
  await expect(cancelled.result()).rejects.toThrow();
  stack.emulator.setFaults({ callbackDropRate: 0 });
  await save('job-cancelled', cancelled);
});

it('records fetches inside the workflow task handed over: cut by a 503, and refused by Hume for a callback that came early', async () => {
  stack.emulator.failNext({ count: 1, route: 'predictions', status: 503 });
  const handedOver = await startJob({ polling: { firstPollAfter: '1 hour' } });
  await handedOver.result();
  await save('job-fetch-handed-over', handedOver);

  const slow = await startStack({ temporalAddress: server.address, emulator: { timing: { queuedMs: 10, processingMs: 3_000 } } });
  try {
    const early = await startJob({ polling: { firstPollAfter: '1 hour' } }, slow);
    await expect.poll(async () => (await early.query(statusQuery)).phase).toBe('waiting');
    await early.signal(jobFinishedSignal, { jobId: (await early.query(statusQuery)).jobId!, status: 'COMPLETED' });
    await early.result();
    await save('job-fetch-refused', early);
  } finally {
    await slow.close();
  }
});

it('records humeBatch paths', async () => {
  const items = Array.from({ length: 24 }, (_, i) => ({ id: `r${i}`, text: `replayed text ${i}` }));
  const run = await startRun(
    stack.temporal.client,
    { runId: uniqueId('record'), outDir: dir, items, config, maxJobsInFlight: 3, limits: { maxTextsPerJob: 1 } },
    { taskQueue: stack.temporal.taskQueue },
  );
  await run.result();
  const chain = [];
  for await (const execution of stack.temporal.client.workflow.list({ query: `WorkflowId = "${run.workflow.workflowId}"` })) {
    chain.push(execution);
  }
  const continued = chain.find((execution) => execution.status.name === 'CONTINUED_AS_NEW');
  const final = chain.find((execution) => execution.status.name === 'COMPLETED');
  expect(continued && final).toBeTruthy();
  await save('batch-continued', run.workflow, { runId: continued!.runId });
  await save('batch-final', run.workflow, { runId: final!.runId });
  await save('batch-child', stack.temporal.client.workflow.getHandle(`${run.workflow.workflowId}/batch-0`));

  stack.emulator.setFaults({ callbackDelayMs: 1_000 });
  const cancelled = await startRun(
    stack.temporal.client,
    { runId: uniqueId('record-cancel'), outDir: dir, items, config, maxJobsInFlight: 1, limits: { maxTextsPerJob: 4 } },
    { taskQueue: stack.temporal.taskQueue },
  );
  await expect.poll(async () => (await cancelled.progress()).jobs.inFlight).toBe(1);
  await cancelled.cancel();
  await expect(cancelled.result()).rejects.toThrow();
  stack.emulator.setFaults({ callbackDelayMs: 0 });
  await save('batch-cancelled', cancelled.workflow);
});

it('records supervision paths', async () => {
  const items = Array.from({ length: 8 }, (_, i) => ({ id: `s${i}`, text: `supervised text ${i}` }));
  const start = (input: Record<string, unknown>, runId = uniqueId('record-sup')) =>
    startRun(stack.temporal.client, { runId, outDir: dir, items, config, limits: { maxTextsPerJob: 4 }, ...input }, { taskQueue: stack.temporal.taskQueue });

  // Hume fails a job for the usage limit: the job is not resubmitted, the run pauses, then resumes.
  stack.emulator.failNextJobs(1, "user 'u' has exceeded their usage limit");
  const paused = await start({ maxJobsInFlight: 1 });
  await expect.poll(async () => (await paused.progress()).state).toBe('paused');
  await paused.resume();
  await paused.result();
  await save('batch-paused', paused.workflow);
  await save('job-account-blocked', stack.temporal.client.workflow.getHandle(`${paused.workflow.workflowId}/batch-0`));

  // An operator terminates one job of a run: the run hears of it from the child's end and goes on.
  stack.emulator.setFaults({ callbackDropRate: 1 });
  const operated = await start({ maxJobsInFlight: 2, polling: { firstPollAfter: '1 hour' } });
  const batch = (b: number) => stack.temporal.client.workflow.getHandle(`${operated.workflow.workflowId}/batch-${b}`);
  await expect.poll(async () => (await batch(1).query(statusQuery).catch(() => undefined))?.phase).toBe('waiting');
  await expect.poll(async () => (await batch(0).query(statusQuery).catch(() => undefined))?.phase).toBe('waiting');
  await batch(0).terminate('recorded operator');
  await batch(1).signal(jobFinishedSignal, { jobId: (await batch(1).query(statusQuery)).jobId!, status: 'COMPLETED' });
  await operated.result();
  stack.emulator.setFaults({ callbackDropRate: 0 });
  await save('batch-child-terminated', operated.workflow);

  // A run that cannot go on (a batch's id is taken) stops, writes its folder and fails.
  const runId = uniqueId('record-taken');
  const squatter = await stack.temporal.client.workflow.start('waitForever', { taskQueue: stack.temporal.taskQueue, workflowId: `hume-run-${runId}/batch-1` });
  const failed = await start({ maxJobsInFlight: 1 }, runId);
  await expect(failed.result()).rejects.toThrow();
  await squatter.terminate();
  await save('batch-failed', failed.workflow);
});

it('records a continued run whose supervision meets a child start pending', async () => {
  const slow = await startSlowChildStartsStack(server.address);
  try {
    const run = await continueWithAStartPending(slow, dir);
    await save(PENDING_START_RECORDING, run.workflow, { interceptors: [SLOW_CHILD_STARTS] });
  } finally {
    await slow.close();
  }
});

it('records a run that an update tipped into continuing as new', async () => {
  const { run, firstRunId } = await continueByUpdates(stack, dir, SUGGESTS_AT);
  await run.result();
  await save(UPDATE_TIPPED_RECORDING, run.workflow, { runId: firstRunId });
});

it('records a run that continued as new while updates came without pause', async () => {
  const { run, firstRunId } = await continueUnderUpdates(stack, dir);
  await run.result();
  await save(UPDATE_FLOOD_RECORDING, run.workflow, { runId: firstRunId });
});
