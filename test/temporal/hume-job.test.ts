import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HumeJobInput, type HumeJobResult, humeFailureOf, humeJob, jobFinishedSignal, statusQuery } from '../../src/workflows/index.js';
import { HumeClient } from '../../src/hume/client.js';
import { startSubmitDelayProxy } from '../helpers/delay-proxy.js';
import { API_KEY, type Stack, startStack, WEBHOOK_SECRET } from '../helpers/hume-stack.js';
import { CALLBACK_JOB_EVENTS, commandEvents, decodeAll } from '../helpers/history.js';
import { uniqueId } from '../helpers/temporal.js';

const config = { models: { language: { sentiment: {} } } };
const noPollForAnHour = { firstPollAfter: '1 hour' };

function run(stack: Stack, input: Omit<HumeJobInput, 'resultDir'>, workflowId = uniqueId('hume-job')) {
  return stack.temporal.client.workflow.start(humeJob, {
    taskQueue: stack.temporal.taskQueue,
    workflowId,
    args: [{ resultDir: stack.resultDir(), ...input }],
  });
}

async function failureOf(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause;
  return `${cause?.message} ${(cause?.cause as Error | undefined)?.message ?? ''}`;
}

const jobsCreated = (stack: Stack) => stack.emulator.stats().jobsCreated;
const scheduledActivities = (history: temporal.api.history.v1.IHistory) =>
  history.events!.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);

describe('humeJob with callbacks', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it('completes on the callback alone and stores exactly the predictions Hume returns', async () => {
    const before = jobsCreated(stack);
    const requestsBefore = { ...stack.emulator.stats().requests };
    const handle = await run(stack, { texts: ['I love this.', 'This is awful.'], config, polling: noPollForAnHour, artifacts: true });
    const result: HumeJobResult = await handle.result();

    expect(result.status).toBe('COMPLETED');
    expect(result.jobIds).toEqual([result.jobId]);
    expect(result.counts).toMatchObject({ sources: 2, sourcesWithPredictions: 2, sourcesFailed: 0, predictionErrors: 0 });
    expect(result.counts.predictions).toBeGreaterThan(0);
    const served = await request(`${stack.emulator.url}/v0/batch/jobs/${result.jobId}/predictions`, {
      headers: { 'x-hume-api-key': API_KEY },
    });
    const servedBytes = Buffer.from(await served.body.arrayBuffer());
    expect(await readFile(result.predictionsPath)).toEqual(servedBytes);
    expect(result.predictionsBytes).toBe(servedBytes.length);
    expect(result.artifactsPath).toBe(join(result.predictionsPath, '..', 'artifacts.zip'));
    expect((await readFile(result.artifactsPath!)).subarray(0, 2).toString()).toBe('PK');

    const status = await handle.query(statusQuery);
    expect(status).toMatchObject({ phase: 'completed', humeStatus: 'COMPLETED', polls: 0, attempt: 1 });
    expect(status.callbacks).toBeGreaterThanOrEqual(1);
    expect(jobsCreated(stack) - before).toBe(1);
    // No memo: the job id is in the result, the status query and the submissions journal.
    expect((await handle.describe()).memo ?? {}).toEqual({});
    // Two requests for the job (and one for the artifacts asked for): the COMPLETED callback goes
    // straight to the predictions, which Hume serves for a completed job only. (The test's own
    // download above is the second predictions request.)
    const requests = stack.emulator.stats().requests;
    expect({ submit: requests.submit - requestsBefore.submit, details: requests.details - requestsBefore.details, predictions: requests.predictions - requestsBefore.predictions })
      .toEqual({ submit: 1, details: 0, predictions: 1 + 1 });
  });

  it('costs a workflow task for the submit and one for the callback, which fetches a few short texts itself, and no memo', async () => {
    const handle = await run(stack, { texts: ['Counted events.'], config, polling: noPollForAnHour });
    await handle.result();
    const history = await handle.fetchHistory();
    expect(commandEvents(history)).toEqual(CALLBACK_JOB_EVENTS);
    expect(history.events!.filter((e) => e.workflowTaskCompletedEventAttributes)).toHaveLength(2);
  });

  it('fetches by the scheduled activity what a workflow task should not wait for: artifacts, or texts past 64 Ki', async () => {
    const withArtifacts = await run(stack, { texts: ['Zipped too.'], config, polling: noPollForAnHour, artifacts: true });
    const long = await run(stack, { texts: ['word '.repeat(13_200)], config, polling: noPollForAnHour });
    for (const handle of [withArtifacts, long]) {
      expect((await handle.result()).status).toBe('COMPLETED');
      expect(scheduledActivities(await handle.fetchHistory())).toEqual(['humeFetchResults']);
    }
  });

  it('hands a fetch the local activity could not finish to the scheduled one, with one download kept', async () => {
    const requestsBefore = stack.emulator.stats().requests.predictions;
    stack.emulator.failNext({ count: 1, route: 'predictions', status: 503 });
    const handle = await run(stack, { texts: ['Fetched twice.'], config, polling: noPollForAnHour });
    const result = await handle.result();
    expect(result.counts).toMatchObject({ sources: 1, sourcesWithPredictions: 1 });
    expect(stack.emulator.stats().requests.predictions - requestsBefore).toBe(2);
    const history = await handle.fetchHistory();
    expect(scheduledActivities(history)).toEqual(['humeFetchResults']);
    // The local try's marker (submit, then the failed fetch) comes before the scheduled fetch.
    const markers = history.events!.flatMap((e, i) => (e.markerRecordedEventAttributes?.markerName === 'core_local_activity' ? [i] : []));
    expect(markers).toHaveLength(2);
    expect(markers[1]).toBeLessThan(history.events!.findIndex((e) => e.activityTaskScheduledEventAttributes));
  });

  it('hands a submit the local activity could not finish to the scheduled one, which adopts the job it created', async () => {
    const before = jobsCreated(stack);
    // The local try creates the job and loses the answer: the scheduled submit finds it by its key.
    stack.emulator.failNext({ count: 1, route: 'submit', status: 503, afterHandling: true });
    const handle = await run(stack, { texts: ['Handed over.'], config, polling: noPollForAnHour });
    const result = await handle.result();
    expect(result.jobIds).toHaveLength(1);
    expect(jobsCreated(stack) - before).toBe(1);
    const history = await handle.fetchHistory();
    // The adopted job is checked at once: fetched by the scheduled activity then, or inside the task if its callback came first.
    expect(scheduledActivities(history).filter((name) => name === 'humeSubmitJob')).toEqual(['humeSubmitJob']);
    // The local try came first: its marker records the failure it handed over (the adopted job's state check is the next one).
    const firstMarker = history.events!.findIndex((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity');
    const firstScheduled = history.events!.findIndex((e) => e.activityTaskScheduledEventAttributes);
    expect(firstMarker).toBeGreaterThan(-1);
    expect(firstMarker).toBeLessThan(firstScheduled);
  });

  it('asks Hume when a COMPLETED callback comes early, and completes on the real one', async () => {
    const slow = await startStack({ temporalAddress: stack.temporal.address, emulator: { timing: { queuedMs: 10, processingMs: 3_000 } } });
    try {
      const handle = await run(slow, { texts: ['Not yet.'], config, polling: noPollForAnHour });
      await expect.poll(async () => (await handle.query(statusQuery)).phase).toBe('waiting');
      const { jobId } = await handle.query(statusQuery);
      // A callback that claims too early (forged, or sent ahead of the job): the download is refused, Hume is asked.
      await handle.signal(jobFinishedSignal, { jobId: jobId!, status: 'COMPLETED' });
      await expect.poll(() => slow.emulator.stats().requests.details).toBe(1);
      expect(await handle.query(statusQuery)).toMatchObject({ phase: 'waiting', humeStatus: 'IN_PROGRESS', lastError: expect.stringMatching(/not served after its COMPLETED callback/) });
      const result = await handle.result();
      expect(result).toMatchObject({ status: 'COMPLETED', jobIds: [jobId], attempts: 1 });
      expect(slow.emulator.stats()).toMatchObject({ jobsCreated: 1, requests: { submit: 1, details: 2, predictions: 2 } });
    } finally {
      await slow.close();
    }
  });

  it('completes once when the callback is duplicated', async () => {
    stack.emulator.setFaults({ callbackDuplicateRate: 1 });
    try {
      const before = jobsCreated(stack);
      const handle = await run(stack, { texts: ['Twice told.'], config, polling: noPollForAnHour });
      const result = await handle.result();
      expect(result.jobIds).toHaveLength(1);
      expect((await handle.query(statusQuery)).callbacks).toBe(2);
      expect(jobsCreated(stack) - before).toBe(1);
    } finally {
      stack.emulator.setFaults({ callbackDuplicateRate: 0 });
    }
  });

  it('takes callbacks as hints only: unknown, late and wrong-status ones change nothing', async () => {
    stack.emulator.setFaults({ callbackDropRate: 1 });
    try {
      const before = jobsCreated(stack);
      const handle = await run(stack, { texts: ['Only Hume decides.'], config, polling: noPollForAnHour });
      await expect.poll(async () => (await handle.query(statusQuery)).phase).toBe('waiting');
      const { jobId } = await handle.query(statusQuery);
      // A job this workflow never submitted, and a FAILED claim for its own (completed) job.
      await handle.signal(jobFinishedSignal, { jobId: '00000000-0000-4000-8000-000000000000', status: 'COMPLETED' });
      await expect.poll(async () => (await handle.query(statusQuery)).callbacks).toBe(1);
      expect(await handle.query(statusQuery)).toMatchObject({ phase: 'waiting', jobIds: [jobId] });
      const hume = new HumeClient({ apiKey: API_KEY, baseUrl: stack.emulator.url });
      await expect.poll(async () => (await hume.getJob(jobId!)).state.status).toBe('COMPLETED');
      await handle.signal(jobFinishedSignal, { jobId: jobId!, status: 'FAILED' });
      const result = await handle.result();
      // Hume said COMPLETED, so nothing was resubmitted.
      expect(result).toMatchObject({ status: 'COMPLETED', jobIds: [jobId], attempts: 1 });
      expect(jobsCreated(stack) - before).toBe(1);
      // And a callback after the job finished is refused by Temporal, not acted upon.
      await expect(handle.signal(jobFinishedSignal, { jobId: jobId!, status: 'COMPLETED' })).rejects.toThrow();
    } finally {
      stack.emulator.setFaults({ callbackDropRate: 0 });
    }
  });

  it('falls back to polling when callbacks never come', async () => {
    stack.emulator.setFaults({ callbackDropRate: 1 });
    try {
      const handle = await run(stack, { texts: ['Nobody calls.'], config, polling: { firstPollAfter: '1 second' } });
      const result = await handle.result();
      expect(result.status).toBe('COMPLETED');
      const status = await handle.query(statusQuery);
      expect(status.callbacks).toBe(0);
      expect(status.polls).toBeGreaterThanOrEqual(1);
    } finally {
      stack.emulator.setFaults({ callbackDropRate: 0 });
    }
  });

  it('resubmits a FAILED job as a new job, then completes', async () => {
    stack.emulator.failNextJobs(1, 'transient processing error');
    const result = await (await run(stack, { texts: ['Second time lucky.'], config, polling: noPollForAnHour, resubmitDelay: 200 })).result();
    expect(result.jobIds).toHaveLength(2);
    expect(result.attempts).toBe(2);
    expect(result.jobId).toBe(result.jobIds[1]);
  });

  it('gives up after maxJobAttempts FAILED jobs, naming the job and Hume’s message', async () => {
    const before = jobsCreated(stack);
    stack.emulator.failNextJobs(2, 'media decoder crashed');
    const handle = await run(stack, { texts: ['Never.'], config, maxJobAttempts: 2, polling: noPollForAnHour, resubmitDelay: 200 });
    const message = await failureOf(handle.result());
    const failure = humeFailureOf(await handle.result().catch((e: unknown) => e));
    expect(failure?.type === 'HUME_JOB_FAILED' && failure.details.jobIds).toHaveLength(2);
    expect(message).toMatch(/gave up after 2 Hume job\(s\) ended FAILED/);
    expect(message).toMatch(/Hume job [0-9a-f-]{36} FAILED: .*media decoder crashed/);
    expect(jobsCreated(stack) - before).toBe(2);
    expect(await handle.query(statusQuery)).toMatchObject({ phase: 'failed', attempt: 2 });
  });

  it('retries 429 bursts and 5xx on submit and on fetch to success, with one Hume job and no job search after a refusal', async () => {
    const before = jobsCreated(stack);
    const listsBefore = stack.emulator.stats().requests.list;
    stack.emulator.failNext({ count: 3, status: 429, route: 'submit', retryAfterSeconds: 1 });
    stack.emulator.failNext({ count: 2, status: 503, route: 'predictions' });
    stack.emulator.failNext({ count: 1, status: 500, route: 'details' });
    const result = await (await run(stack, { texts: ['Busy day.'], config, polling: { firstPollAfter: '1 second' } })).result();
    expect(result.status).toBe('COMPLETED');
    expect(jobsCreated(stack) - before).toBe(1);
    // A 429 proves no job was created: the retries did not list Hume's jobs to look for one.
    expect(stack.emulator.stats().requests.list - listsBefore).toBe(0);
  });

  it('adopts the job a submit created when its answer was lost, instead of creating a second', async () => {
    const before = jobsCreated(stack);
    const listsBefore = stack.emulator.stats().requests.list;
    stack.emulator.failNext({ count: 1, route: 'submit', status: 503, afterHandling: true });
    const result = await (await run(stack, { texts: ['Lost answer.'], config, polling: noPollForAnHour })).result();
    expect(result.jobIds).toHaveLength(1);
    expect(jobsCreated(stack) - before).toBe(1);
    // One search, over the jobs created since this request was sent: one page.
    expect(stack.emulator.stats().requests.list - listsBefore).toBe(1);
  });

  it('refuses an invalid model config before anything is sent, naming the field', async () => {
    const before = stack.emulator.stats().requests.submit;
    const handle = await run(stack, {
      texts: ['x'],
      config: { models: { face: { prob_threshold: 7 } } },
    });
    const message = await failureOf(handle.result());
    expect(message).toMatch(/config\.models\.face\.prob_threshold/);
    expect(stack.emulator.stats().requests.submit).toBe(before);
  });

  it('runs as a child of a user’s own workflow, which uses its result', async () => {
    const result = await stack.temporal.client.workflow.execute('analyseReviews', {
      taskQueue: stack.temporal.taskQueue,
      workflowId: uniqueId('parent'),
      args: [{ resultDir: stack.resultDir(), texts: ['Great', 'Bad', 'Fine'], config }],
    });
    expect(result).toMatchObject({ sourcesWithPredictions: 3 });
    expect((result as { jobId: string }).jobId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('stops waiting when cancelled and keeps nothing running', async () => {
    const handle = await run(stack, { texts: ['Cancel me.'], config, polling: noPollForAnHour });
    stack.emulator.setFaults({ callbackDropRate: 1 });
    try {
      await expect.poll(async () => (await handle.query(statusQuery)).phase).toBe('waiting');
      await handle.cancel();
      const message = await failureOf(handle.result());
      expect(message).toMatch(/cancel/i);
      expect((await handle.describe()).status.name).toBe('CANCELLED');
    } finally {
      stack.emulator.setFaults({ callbackDropRate: 0 });
    }
  });

  it('keeps the API key and the webhook secret out of the whole history', async () => {
    const handle = await run(stack, { texts: ['Keep my secrets.'], config, polling: noPollForAnHour });
    await handle.result();
    const history = await handle.fetchHistory();
    const text = decodeAll(history);
    expect(text).toContain('Keep my secrets.');
    expect(text).not.toContain(API_KEY);
    expect(text).not.toContain(WEBHOOK_SECRET);
  });
});

describe('humeJob behind a busy request limiter', () => {
  let stack: Stack;
  beforeAll(async () => {
    // One request every 2 s: of three jobs started together, the third finds no slot for its submit
    // within the 2 s a workflow task waits (IN_TASK_SLOT_WAIT_MS).
    stack = await startStack({ maxRequestsPerSecond: 0.5 });
  });
  afterAll(() => stack.close());

  it('hands the submit to the scheduled activity before sending anything: one Hume job each, no search', async () => {
    const before = jobsCreated(stack);
    const handles = await Promise.all([1, 2, 3].map((n) => run(stack, { texts: [`Queued ${n}.`], config, polling: noPollForAnHour })));
    const results = await Promise.all(handles.map((handle) => handle.result()));
    expect(results.map((r) => r.status)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
    expect(jobsCreated(stack) - before).toBe(3);
    expect(stack.emulator.stats().requests.list).toBe(0);
    const scheduled = await Promise.all(handles.map(async (handle) => (await handle.fetchHistory()).events!.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? [])));
    expect(scheduled.filter((names) => names.includes('humeSubmitJob')).length).toBeGreaterThanOrEqual(1);
  });
});

describe('humeJob against a server that answers submits late', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ through: (url) => startSubmitDelayProxy(url, 1_500) });
  });
  afterAll(() => stack.close());

  it('does not lose a callback that arrives before the submit activity returned', async () => {
    const handle = await run(stack, { texts: ['Early bird.'], config, polling: noPollForAnHour });
    const result = await handle.result();
    expect(result.status).toBe('COMPLETED');
    expect(await handle.query(statusQuery)).toMatchObject({ polls: 0, callbacks: 1 });
  });
});

describe('humeJob without callbacks', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ callbacks: false });
  });
  afterAll(() => stack.close());

  it('adopts the job a submit created when its connection was reset, with no callback to carry the key', async () => {
    const before = jobsCreated(stack);
    stack.emulator.failNext({ count: 1, route: 'submit', reset: true, afterHandling: true });
    const result = await (await run(stack, { texts: ['Reset after submit.'], config, polling: { firstPollAfter: 200 } })).result();
    expect(result.jobIds).toHaveLength(1);
    expect(jobsCreated(stack) - before).toBe(1);
  });

  it('polls to completion', async () => {
    const handle = await run(stack, { texts: ['Polling only.'], config, polling: { firstPollAfter: 200 } });
    const result = await handle.result();
    expect(result.status).toBe('COMPLETED');
    const status = await handle.query(statusQuery);
    expect(status.callbacks).toBe(0);
    expect(status.polls).toBeGreaterThanOrEqual(1);
  });
});

describe('humeJob with a wrong API key', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ workerApiKey: 'wrong-key' });
  });
  afterAll(() => stack.close());

  it('fails fast with a clear message and no retry storm', async () => {
    const message = await failureOf((await run(stack, { texts: ['x'], config })).result());
    expect(message).toMatch(/Hume startJob: 401/);
    expect(message).not.toContain('wrong-key');
    expect(stack.emulator.stats().requests.submit).toBe(1);
  });
});
