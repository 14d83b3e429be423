import { mkdtempSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getRun, redriveRun, startRun } from '../../src/client.js';
import { FAILURE_TYPES, humeFailureOf } from '../../src/index.js';
import type { humeJob } from '../../src/workflows/index.js';
import { HumeClient } from '../../src/hume/client.js';
import type { HumeBatchInput } from '../../src/schemas/batch.js';
import { API_KEY, type Stack, startStack } from '../helpers/hume-stack.js';
import { serveFolder, writeMixedManifest } from '../helpers/manifests.js';
import { CALLBACK_JOB_EVENTS, commandEvents } from '../helpers/history.js';
import { uniqueId } from '../helpers/temporal.js';

// Every model, so texts, audio and images all have something to run.
const config = { models: { language: { sentiment: {}, toxicity: {} }, prosody: {}, face: {}, burst: {} } };

async function readJsonl(path: string): Promise<Array<Record<string, unknown>>> {
  return (await readFile(path, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('humeBatch', () => {
  let stack: Stack;
  let media: Awaited<ReturnType<typeof serveFolder>>;
  let dir: string;

  beforeAll(async () => {
    stack = await startStack({ emulator: { timing: { queuedMs: [10, 30], processingMs: [20, 80] } } });
    dir = mkdtempSync(join(tmpdir(), 'batch-'));
    media = await serveFolder(join(dir, 'media'));
  });
  afterAll(async () => {
    await media.close();
    await stack.close();
  });

  const start = (input: Omit<HumeBatchInput, 'outDir'>, runId = uniqueId('run')) =>
    startRun(stack.temporal.client, { outDir: join(dir, 'out'), runId, config, ...input }, { taskQueue: stack.temporal.taskQueue });

  it('refuses a manifest with an invalid line before submitting anything, naming the line', async () => {
    const manifest = await writeMixedManifest(dir, 1_234, media.url, [617]);
    const before = stack.emulator.stats().requests.submit;
    const run = await start({ manifest: { path: manifest.path } });
    const err = await run.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const message = String(((err as WorkflowFailedError).cause?.cause as Error | undefined)?.message);
    expect(message).toMatch(/line 617: text/);
    expect(message).not.toMatch(/line 618/);
    expect(stack.emulator.stats().requests.submit).toBe(before);
    // The same, typed, for code that starts runs: the line without its value (history never holds items).
    const failure = humeFailureOf(err);
    expect(failure?.type).toBe(FAILURE_TYPES.invalidManifest);
    if (failure?.type !== 'INVALID_MANIFEST') throw new Error('not INVALID_MANIFEST');
    expect(failure.details).toMatchObject({ invalidCount: 1, invalid: [{ line: 617, field: 'text' }] });
    expect(failure.details?.invalid[0]).not.toHaveProperty('value');
  });

  it('with skipInvalid runs 1,234 mixed items: each valid item exactly once in the index, one Hume job per batch', async () => {
    const manifest = await writeMixedManifest(dir, 1_234, media.url, [617]);
    const jobsBefore = stack.emulator.stats().jobsCreated;
    const run = await start({ manifest: { path: manifest.path }, skipInvalid: true, maxJobsInFlight: 4 });
    const result = await run.result();

    expect(result.state).toBe('completed');
    const index = await readJsonl(join(result.runDir, 'index.jsonl'));
    const completed = index.filter((row) => row.status === 'completed');
    expect(completed.map((row) => row.line).sort((a, b) => Number(a) - Number(b))).toEqual(manifest.validLines);
    expect(new Set(completed.map((row) => row.id)).size).toBe(manifest.validLines.length);
    expect(index.find((row) => row.line === 617)).toMatchObject({ status: 'invalid' });

    const progress = await run.progress();
    expect(progress).toMatchObject({
      state: 'completed',
      items: { valid: 1_233, invalid: 1, completed: 1_233, failed: 0, inFlight: 0, pending: 0 },
      jobs: { failed: 0, inFlight: 0, pending: 0 },
    });
    // 411 texts, 411 URLs and 411 files: as few jobs as the 100-per-kind limits allow.
    expect(progress.jobs.planned).toBe(5);
    const created = stack.emulator.stats().jobsCreated - jobsBefore;
    expect(created).toBe(progress.jobs.planned);
    const hume = new HumeClient({ apiKey: API_KEY, baseUrl: stack.emulator.url });
    const listed = await hume.listJobs({ limit: 500 });
    expect(listed.filter((job) => job.request.callback_url?.includes(encodeURIComponent(run.workflow.workflowId)))).toHaveLength(created);

    const summary = JSON.parse(await readFile(join(result.runDir, 'summary.json'), 'utf8'));
    expect(summary).toBeTruthy();
    for (const model of ['language', 'prosody', 'face']) {
      const csv = await readFile(join(result.runDir, 'csv', `${model}.csv`), 'utf8');
      expect(csv.split('\n')[0]).toMatch(/^item_id,/);
    }
  });

  it('resubmits FAILED jobs inside a run and counts the resubmission', async () => {
    stack.emulator.failNextJobs(1, 'transient failure');
    const run = await start({ items: [{ text: 'one' }, { text: 'two' }], maxJobAttempts: 2, resubmitDelay: 200 });
    const result = await run.result();
    expect(result.state).toBe('completed');
    expect(await run.progress()).toMatchObject({ humeJobsCreated: 2, resubmissions: 1, items: { completed: 2 } });
  });

  it('ends failed when more items failed than maxFailedItemsPercent, after writing the folder', async () => {
    stack.emulator.failNextJobs(2, 'processing error');
    const run = await start({
      items: [{ id: 'a', text: 'alpha' }],
      maxJobAttempts: 2,
      resubmitDelay: 200,
      maxFailedItemsPercent: 50,
    });
    const err = await run.result().catch((e: unknown) => e);
    expect(String((err as WorkflowFailedError).cause?.message)).toMatch(/100\.0% of items failed/);
    const index = await readJsonl(join(dir, 'out', (await run.progress()).runId, 'index.jsonl'));
    expect(index).toEqual([expect.objectContaining({ id: 'a', status: 'failed' })]);
  });

  it('ends failed when every item failed, whatever maxFailedItemsPercent says, after writing the folder', async () => {
    stack.emulator.failNextJobs(1, 'decoder crashed');
    const run = await start({ items: [{ id: 'only', text: 'alone' }], maxJobAttempts: 1 });
    const err = await run.result().catch((e: unknown) => e);
    expect((err as WorkflowFailedError).cause).toMatchObject({ type: 'RUN_FAILED', message: expect.stringMatching(/every item failed \(last: .*decoder crashed\); fix the cause, then redrive/) });
    const index = await readJsonl(join(dir, 'out', (await run.progress()).runId, 'index.jsonl'));
    expect(index).toEqual([expect.objectContaining({ id: 'only', status: 'failed' })]);
  });

  it('says a redrive has nothing to do, and changes nothing in the folder', async () => {
    const runId = uniqueId('noop');
    const first = await (await start({ items: [{ text: 'done once' }] }, runId)).result();
    const files = async () => (await readdir(first.runDir)).sort();
    const before = { files: await files(), summary: await readFile(join(first.runDir, 'summary.json'), 'utf8'), run: await readFile(join(first.runDir, 'run.json'), 'utf8') };
    const redrive = await redriveRun(stack.temporal.client, runId, { taskQueue: stack.temporal.taskQueue });
    const err = await redrive.result().catch((e: unknown) => e);
    expect((err as WorkflowFailedError).cause).toMatchObject({ type: 'NOTHING_TO_REDRIVE', message: expect.stringMatching(/has nothing to redrive/) });
    expect({ files: await files(), summary: await readFile(join(first.runDir, 'summary.json'), 'utf8'), run: await readFile(join(first.runDir, 'run.json'), 'utf8') }).toEqual(before);
  });

  it('fails only the batch whose lines were edited mid-run: the rest completes and the folder names the change', async () => {
    const path = join(dir, `edited-${uniqueId('m')}.jsonl`);
    const lines = Array.from({ length: 15 }, (_, i) => JSON.stringify({ id: `e${i + 1}`, text: `line ${i + 1}` }));
    await writeFile(path, `${lines.join('\n')}\n`);
    // Each batch waits 1.5 s for its callback: batch 2 is submitted seconds after the edit.
    stack.emulator.setFaults({ callbackDelayMs: 1_500 });
    let result;
    try {
      const run = await start({ manifest: { path }, maxJobsInFlight: 1, limits: { maxTextsPerJob: 5 } });
      await expect.poll(async () => (await run.progress()).jobs.inFlight).toBe(1);
      expect((await run.progress()).jobs.pending).toBe(2);
      // Line 12 (batch 2) is edited, at a different length: every byte after it moves.
      lines[11] = JSON.stringify({ id: 'e12', text: 'edited while the run was running' });
      // Replaced whole (as an editor saving does), so a submit reading another batch never sees it half-written.
      await writeFile(`${path}.tmp`, `${lines.join('\n')}\n`);
      await rename(`${path}.tmp`, path);
      result = await run.result();
    } finally {
      stack.emulator.setFaults({ callbackDelayMs: 0 });
    }
    expect(result.state).toBe('completed');
    expect(result.summary.items).toMatchObject({ completed: 10, failed: 5 });
    const index = await readJsonl(join(result.runDir, 'index.jsonl'));
    expect(index.map((row) => row.line)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    const failed = index.filter((row) => row.status === 'failed');
    expect(failed.map((row) => row.line)).toEqual([11, 12, 13, 14, 15]);
    expect(failed[0]?.error).toMatch(/changed since the run was planned: lines 11-15 \(batch 2\) differ/);
  });

  it('pauses, resizes its window and resumes on request', async () => {
    const items = Array.from({ length: 450 }, (_, i) => ({ text: `paused text ${i}` }));
    const run = await start({ items, maxJobsInFlight: 1, limits: { maxTextsPerJob: 50 } });
    const paused = await run.pause();
    expect(paused.state).toMatch(/paused|planning|running/);
    await expect.poll(async () => (await run.progress()).state).toBe('paused');
    const frozen = (await run.progress()).jobs;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await run.progress()).jobs.completed + (await run.progress()).jobs.inFlight).toBe(frozen.completed + frozen.inFlight);
    const refused = await run.setMaxJobsInFlight(0).catch((e: Error) => e);
    expect((refused as Error).cause).toMatchObject({ message: expect.stringMatching(/maxJobsInFlight: must be an integer from 1 to 500/) });
    expect((await run.setMaxJobsInFlight(3)).maxJobsInFlight).toBe(3);
    // A client from before update arguments were objects sends the bare number: still understood.
    expect(await run.workflow.executeUpdate<{ maxJobsInFlight: number }, [number]>('setMaxJobsInFlight', { args: [2] })).toMatchObject({ maxJobsInFlight: 2 });
    await run.workflow.executeUpdate<unknown, [string]>('setOnCancel', { args: ['wait'] });
    const badMode = await run.workflow.executeUpdate<unknown, [string]>('setOnCancel', { args: ['later'] }).catch((e: Error) => e);
    expect((badMode as Error).cause).toMatchObject({ message: expect.stringMatching(/^onCancel: /) });
    await run.resume();
    const result = await run.result();
    expect(result.summary.items.completed).toBe(450);
  });

  it('on cancel stops submitting, lets in-flight jobs finish and still writes the folder', async () => {
    stack.emulator.setFaults({ callbackDelayMs: 1_500 });
    try {
      const items = Array.from({ length: 300 }, (_, i) => ({ text: `cancelled text ${i}` }));
      const run = await start({ items, maxJobsInFlight: 1, limits: { maxTextsPerJob: 10 } });
      await expect.poll(async () => (await run.progress()).jobs.inFlight).toBe(1);
      await run.cancel();
      await expect(run.result()).rejects.toThrow();
      expect((await run.workflow.describe()).status.name).toBe('CANCELLED');
      const runDir = join(dir, 'out', (await run.progress()).runId);
      const index = await readJsonl(join(runDir, 'index.jsonl'));
      expect(index).toHaveLength(300);
      expect(index.filter((row) => row.status === 'completed').length).toBeGreaterThanOrEqual(10);
      expect(index.filter((row) => row.status === 'not_run').length).toBeGreaterThan(200);
      expect(JSON.parse(await readFile(join(runDir, 'summary.json'), 'utf8'))).toBeTruthy();
    } finally {
      stack.emulator.setFaults({ callbackDelayMs: 0 });
    }
  });

  it('with onCancel: abandon, cancels its in-flight jobs, records the Hume jobs it left and marks the rest not run', async () => {
    stack.emulator.setFaults({ callbackDropRate: 1 });
    try {
      const items = Array.from({ length: 40 }, (_, i) => ({ text: `abandoned text ${i}` }));
      const run = await start({ items, maxJobsInFlight: 2, limits: { maxTextsPerJob: 10 }, onCancel: 'abandon', polling: { firstPollAfter: '1 hour' } });
      await expect.poll(async () => (await run.progress()).jobs.inFlight).toBe(2);
      await run.cancel();
      await expect(run.result()).rejects.toThrow();
      const { runId } = await run.progress();
      const child = stack.temporal.client.workflow.getHandle(`${run.workflow.workflowId}/batch-0`);
      expect((await child.describe()).status.name).toBe('CANCELLED');
      const index = await readJsonl(join(dir, 'out', runId, 'index.jsonl'));
      // The two batches in flight were cancelled: their items failed, naming the Hume job left behind.
      const abandoned = index.filter((row) => row.status === 'failed');
      expect(abandoned).toHaveLength(20);
      expect(abandoned.every((row) => typeof row.job_id === 'string' && String(row.error).includes(String(row.job_id)))).toBe(true);
      expect(abandoned[0]?.error).toMatch(/cancelled.*left at Hume/);
      expect(index.filter((row) => row.status === 'not_run')).toHaveLength(20);
    } finally {
      stack.emulator.setFaults({ callbackDropRate: 0 });
    }
  });

  it('redrives only the failed items of a finished run into the same folder', async () => {
    const items = Array.from({ length: 30 }, (_, i) => ({ id: `r${i}`, text: `redriven text ${i}` }));
    stack.emulator.failNextJobs(1, 'injected failure');
    const runId = uniqueId('redrive');
    const first = await (await start({ items, maxJobsInFlight: 1, maxJobAttempts: 1, limits: { maxTextsPerJob: 10 } }, runId)).result();
    expect(first.summary.items).toMatchObject({ completed: 20, failed: 10 });
    const csvBefore = await readFile(join(first.runDir, 'csv', 'language.csv'), 'utf8');
    const rowsOf = (csv: string, id: string) => csv.split('\n').filter((line) => line.startsWith(`${id},`));
    expect(rowsOf(csvBefore, 'r0')).toHaveLength(0);

    const jobsBefore = stack.emulator.stats().jobsCreated;
    const redrive = await redriveRun(stack.temporal.client, runId, { taskQueue: stack.temporal.taskQueue });
    const second = await redrive.result();
    expect(second.runDir).toBe(first.runDir);
    expect(stack.emulator.stats().jobsCreated - jobsBefore).toBe(1);
    expect(await redrive.progress()).toMatchObject({ items: { valid: 10, completed: 10 }, jobs: { planned: 1 } });

    const index = await readJsonl(join(first.runDir, 'index.jsonl'));
    expect(index.map((row) => row.id)).toEqual(items.map((item) => item.id));
    expect(index.every((row) => row.status === 'completed')).toBe(true);
    expect(second.summary.items).toMatchObject({ completed: 30, failed: 0 });
    const csvAfter = await readFile(join(first.runDir, 'csv', 'language.csv'), 'utf8');
    expect(rowsOf(csvAfter, 'r0').length).toBeGreaterThan(0);
    // Items that had completed keep exactly their rows: nothing else ran again.
    expect(rowsOf(csvAfter, 'r15')).toEqual(rowsOf(csvBefore, 'r15'));
    const runJson = JSON.parse(await readFile(join(first.runDir, 'run.json'), 'utf8'));
    expect(runJson.input.redrives).toEqual([redrive.workflow.workflowId]);
    // The accounts add up: the run's 3 Hume jobs and the redrive's 1, each run's own figures beside.
    const summary = JSON.parse(await readFile(join(first.runDir, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({
      humeJobsCreated: 4,
      resubmissions: 0,
      runs: [
        { kind: 'run', state: 'completed', humeJobsCreated: 3 },
        { kind: 'redrive', workflowId: redrive.workflow.workflowId, state: 'completed', humeJobsCreated: 1 },
      ],
    });
    expect(summary.timings.durationMs).toBe(summary.runs[0].timings.durationMs + summary.runs[1].timings.durationMs);
  });

  it('redrives failed items wherever they are in the plan, not only its first batches', async () => {
    const mediaDir = join(dir, 'redrive-media');
    await mkdir(mediaDir, { recursive: true });
    const served = await serveFolder(mediaDir);
    try {
      await writeFile(join(mediaDir, 'u1.wav'), 'first clip');
      const texts = (from: number) => Array.from({ length: 4 }, (_, i) => ({ id: `t${from + i}`, text: `sentence ${from + i}` }));
      // Three batches of four texts and one URL each; the URLs of batches 1 and 2 do not exist yet.
      const items = [...texts(0), { id: 'u1', url: `${served.url}/u1.wav` }, ...texts(4), { id: 'u2', url: `${served.url}/u2.wav` }, ...texts(8), { id: 'u3', url: `${served.url}/u3.wav` }];
      const runId = uniqueId('redrive-gaps');
      const limits = { maxTextsPerJob: 4, maxUrlsPerJob: 1 };
      const first = await (await start({ items, limits, maxJobsInFlight: 1 }, runId)).result();
      expect(first.summary.items).toMatchObject({ completed: 13, failed: 2 });
      await writeFile(join(mediaDir, 'u2.wav'), 'second clip');
      await writeFile(join(mediaDir, 'u3.wav'), 'third clip');

      const redrive = await redriveRun(stack.temporal.client, runId, { taskQueue: stack.temporal.taskQueue });
      expect((await redrive.result()).summary.items).toMatchObject({ completed: 15, failed: 0 });
      expect(await redrive.progress()).toMatchObject({ jobs: { planned: 2, completed: 2, pending: 0 }, items: { completed: 2, pending: 0 } });
    } finally {
      await served.close();
    }
  });

  it('ends clearly when a batch cannot start because its workflow id is still taken', async () => {
    const runId = uniqueId('taken');
    const squatter = await stack.temporal.client.workflow.start('waitForever', {
      taskQueue: stack.temporal.taskQueue,
      workflowId: `hume-run-${runId}/batch-0`,
    });
    try {
      const run = await start({ items: [{ text: 'blocked' }] }, runId);
      const err = await run.result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect(String((err as WorkflowFailedError).cause?.message)).toMatch(/batch 0 cannot start, .*batch-0 is still running/);
    } finally {
      await squatter.terminate();
    }
  });

  it('runs as a child of a user’s own workflow, which uses the returned summary', async () => {
    const result = await stack.temporal.client.workflow.execute('summariseSurvey', {
      taskQueue: stack.temporal.taskQueue,
      workflowId: uniqueId('survey'),
      args: [{ outDir: join(dir, 'out'), runId: uniqueId('survey-run'), config, items: [{ text: 'Good' }, { text: 'Bad' }] }],
    });
    expect(result).toEqual({ completed: 2, failed: 0 });
  });

  it('is findable in Temporal by run id and Hume job id when it asks for search attributes', async () => {
    const runId = uniqueId('findable');
    const run = await start({ items: [{ text: 'one' }, { text: 'two' }], limits: { maxTextsPerJob: 1 }, searchAttributes: true }, runId);
    await run.result();
    const found = async (query: string) => {
      const ids: string[] = [];
      for await (const execution of stack.temporal.client.workflow.list({ query })) ids.push(execution.workflowId);
      return ids.sort();
    };
    const workflowId = run.workflow.workflowId;
    await expect.poll(() => found(`HumeRunId = "${runId}"`)).toEqual([workflowId, `${workflowId}/batch-0`, `${workflowId}/batch-1`].sort());
    const [jobId] = (await stack.temporal.client.workflow.getHandle<typeof humeJob>(`${workflowId}/batch-1`).result()).jobIds;
    await expect.poll(() => found(`HumeJobIds = "${jobId}"`)).toEqual([`${workflowId}/batch-1`]);
  });

  it('hears that a batch completed from its child\'s close: no report signal, and texts submitted inside a workflow task', async () => {
    const run = await start({ items: [{ text: 'first' }, { text: 'second' }], limits: { maxTextsPerJob: 1 }, config: { models: { language: {} } } });
    const result = await run.result();
    expect(result.summary.items).toMatchObject({ completed: 2, failed: 0 });
    expect((await run.progress()).humeJobsCreated).toBe(2);
    for (const b of [0, 1]) {
      const child = stack.temporal.client.workflow.getHandle(`${run.workflow.workflowId}/batch-${b}`);
      expect(commandEvents(await child.fetchHistory())).toEqual(CALLBACK_JOB_EVENTS);
    }
    expect(commandEvents(await run.workflow.fetchHistory())).not.toContain('WORKFLOW_EXECUTION_SIGNALED');
  });

  it('can be found again by run id', async () => {
    const runId = uniqueId('found');
    await (await start({ items: [{ text: 'find me' }] }, runId)).result();
    const again = getRun(stack.temporal.client, runId);
    expect((await again.progress()).runId).toBe(runId);
    expect((await again.workflow.describe()).memo).toMatchObject({ runId });
  });
});
