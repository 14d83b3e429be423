/**
 * Conformance: our client and the official SDK (hume@0.15.17) run the same scenarios against the
 * emulator and must see the same thing. Each job is started once by each client with the same
 * input; both clients then read both jobs. The SDK camelCases keys and turns nulls into
 * undefined, so results are compared after `normalize`.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HumeClient as SdkClient, HumeError as SdkError } from 'hume';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHumeEmulator, type HumeEmulator } from '../../src/emulator/index.js';
import { HumeClient } from '../../src/hume/client.js';
import { HumeError } from '../../src/hume/errors.js';
import type { InferenceJob } from '../../src/hume/schemas.js';
import { startServer, type TestServer } from './helpers.js';

const MEDIA: Record<string, { bytes: Buffer; contentType: string }> = {
  'clip.wav': { bytes: Buffer.from('RIFF fake wav bytes for the emulator'), contentType: 'audio/wav' },
  'face.jpg': { bytes: Buffer.from('fake jpeg bytes for the emulator'), contentType: 'image/jpeg' },
};

let emulator: HumeEmulator;
let media: TestServer;
let dir: string;
let ours: HumeClient;
let sdk: SdkClient;

beforeAll(async () => {
  emulator = await startHumeEmulator({ timing: { queuedMs: 10, processingMs: 20 } });
  media = await startServer((req, res) => {
    const file = MEDIA[req.url.replace('/media/', '')];
    if (!file) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': file.contentType }).end(file.bytes);
  });
  dir = await mkdtemp(join(tmpdir(), 'hume-conformance-'));
  for (const [name, { bytes }] of Object.entries(MEDIA)) await writeFile(join(dir, name), bytes);
  ours = new HumeClient({ apiKey: emulator.apiKey, baseUrl: emulator.url });
  sdk = new SdkClient({ apiKey: emulator.apiKey, baseUrl: emulator.url, maxRetries: 0 });
});
afterAll(async () => {
  await emulator?.close();
  await media?.close();
  await rm(dir, { recursive: true, force: true });
});

/** `md5sum`, `md5Sum`, `job_id`, `jobId` → `md5sum`, `jobid`: the SDK does not camelCase uniformly. */
const key = (k: string) => k.replace(/_/g, '').toLowerCase();

/** Wire JSON and SDK objects made comparable: keys folded by `key`, null and undefined dropped. */
function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => [key(k), normalize(v)]),
  );
}

/** What we read of a job the SDK parsed in full: echoed texts are dropped as they stream past, kept as empty strings. */
function withoutTexts<T>(job: T): T {
  const { request } = job as { request?: { text?: unknown[] | null } };
  if (!request?.text) return job;
  return { ...job, request: { ...request, text: request.text.map(() => '') } };
}

/** A job as both clients must agree on it: everything but its id and timestamps. */
const comparableJob = (job: unknown) => {
  const { jobid: _id, state, ...rest } = normalize(job) as { jobid: string; state: Record<string, unknown> };
  const { createdtimestampms: _c, startedtimestampms: _s, endedtimestampms: _e, ...stateRest } = state;
  return { ...rest, state: stateRest };
};

async function waitOurs(jobId: string): Promise<InferenceJob> {
  for (;;) {
    const job = await ours.getJob(jobId);
    if (job.state.status === 'COMPLETED' || job.state.status === 'FAILED') return job;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

interface Scenario {
  name: string;
  startOurs(): Promise<string>;
  /** Starts the job and waits for it the SDK's way (`awaitCompletion`). */
  startSdk(): Promise<string>;
}

const mediaUrl = (name: string) => `${media.url}/media/${name}`;
const localFiles = () => Object.entries(MEDIA).map(([name, { contentType }]) => ({ path: join(dir, name), contentType }));
const batch = () => sdk.expressionMeasurement.batch;
const awaited = async (started: Promise<{ jobId: string; awaitCompletion(s?: number): Promise<void> }>) => {
  const job = await started;
  await job.awaitCompletion(30);
  return job.jobId;
};
const TEXTS = ['I love this.', 'This is awful, truly.'];

const scenarios: Scenario[] = [
  {
    name: 'urls',
    startOurs: () =>
      ours.startJob({ models: { face: {}, prosody: { granularity: 'sentence' } }, notify: false, urls: Object.keys(MEDIA).map(mediaUrl) }),
    startSdk: () =>
      awaited(
        batch().startInferenceJob({ models: { face: {}, prosody: { granularity: 'sentence' } }, notify: false, urls: Object.keys(MEDIA).map(mediaUrl) }),
      ),
  },
  {
    name: 'texts',
    startOurs: () => ours.startJob({ models: { language: { sentiment: {}, toxicity: {} }, ner: {} }, text: TEXTS }),
    startSdk: () => awaited(batch().startInferenceJob({ models: { language: { sentiment: {}, toxicity: {} }, ner: {} }, text: TEXTS })),
  },
  {
    name: 'local files',
    startOurs: () => ours.startJobWithFiles(localFiles(), { models: { burst: {}, face: { fps_pred: 1 } } }),
    startSdk: () =>
      awaited(batch().startInferenceJobFromLocalFile({ json: { models: { burst: {}, face: { fpsPred: 1 } } }, file: localFiles() })),
  },
];

describe.each(scenarios)('start with $name', (scenario) => {
  let ourId: string;
  let sdkId: string;

  beforeAll(async () => {
    [ourId, sdkId] = await Promise.all([scenario.startOurs(), scenario.startSdk()]);
    await waitOurs(ourId);
  });

  it('both jobs complete, and both clients read the same details for each', async () => {
    for (const id of [ourId, sdkId]) {
      const [mine, theirs] = await Promise.all([ours.getJob(id), batch().getJobDetails(id)]);
      expect(mine.state.status).toBe('COMPLETED');
      expect(normalize(mine)).toEqual(normalize(withoutTexts(theirs)));
    }
  });

  it('our request echoes back exactly like the SDK one', async () => {
    const [mine, theirs] = await Promise.all([ours.getJob(ourId), ours.getJob(sdkId)]);
    expect(comparableJob(mine)).toEqual(comparableJob(theirs));
  });

  it('both clients read the same predictions, equal across the two jobs', async () => {
    const [mine, theirs, ofSdkJob] = await Promise.all([
      ours.getPredictions(ourId),
      batch().getJobPredictions(ourId),
      ours.getPredictions(sdkId),
    ]);
    expect(mine.length).toBeGreaterThan(0);
    expect(normalize(mine)).toEqual(normalize(theirs));
    expect(mine).toEqual(ofSdkJob);
  });

  it('both clients download the same artifacts zip', async () => {
    const dest = join(dir, `${scenario.name}-artifacts.zip`);
    const [download, binary] = await Promise.all([
      ours.downloadArtifacts(ourId, dest),
      batch().getJobArtifacts(ourId),
    ]);
    const theirs = Buffer.from(await binary.arrayBuffer());
    expect(download.sha256).toBe(sha256(theirs));
    expect(download.bytes).toBe(theirs.length);
    expect((await readFile(dest)).subarray(0, 4)).toEqual(Buffer.from('PK\x03\x04', 'latin1'));
  });

  it('downloadPredictions streams the same JSON the SDK parses', async () => {
    const dest = join(dir, `${scenario.name}-predictions.json`);
    const [download, theirs] = await Promise.all([
      ours.downloadPredictions(ourId, dest),
      batch().getJobPredictions(ourId),
    ]);
    const raw = await readFile(dest);
    expect(sha256(raw)).toBe(download.sha256);
    expect(normalize(JSON.parse(raw.toString('utf8')))).toEqual(normalize(theirs));
  });
});

describe('list', () => {
  it('both clients list the same jobs, with status filters and paging', async () => {
    const query = { status: ['COMPLETED', 'FAILED'] as ('COMPLETED' | 'FAILED')[], limit: 100 };
    const [mine, theirs] = await Promise.all([ours.listJobs(query), batch().listJobs(query)]);
    expect(mine.length).toBeGreaterThanOrEqual(6);
    expect(normalize(mine)).toEqual(normalize(theirs.map(withoutTexts)));

    const paged: string[] = [];
    for await (const job of ours.iterateJobs({ status: query.status, pageSize: 2 })) paged.push(job.job_id);
    expect(paged).toEqual(theirs.map((j) => j.jobId));
  });
});

describe('failures', () => {
  const sdkStatus = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (e: unknown) => (e instanceof SdkError ? e.statusCode : e),
    );
  const ourError = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (e: unknown) => e as HumeError,
    );

  it('an unknown job is 404 for both, non-retryable for us', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    expect(await sdkStatus(batch().getJobDetails(id))).toBe(404);
    expect(await ourError(ours.getJob(id))).toMatchObject({ code: 'HUME_NOT_FOUND', retryable: false, status: 404 });
  });

  it('a bad key is 401 for both, with the Apigee message for us', async () => {
    const badSdk = new SdkClient({ apiKey: 'wrong', baseUrl: emulator.url, maxRetries: 0 });
    const badOurs = new HumeClient({ apiKey: 'wrong', baseUrl: emulator.url });
    expect(await sdkStatus(badSdk.expressionMeasurement.batch.listJobs())).toBe(401);
    const e = await ourError(badOurs.listJobs());
    expect(e).toMatchObject({ code: 'HUME_UNAUTHORIZED', retryable: false });
    expect(e?.message).toBe('Hume listJobs: 401 Unauthorized: Invalid ApiKey');
  });

  it('an injected 503 with Retry-After is retryable for us', async () => {
    emulator.failNext({ count: 1, status: 503, route: 'list', retryAfterSeconds: 2 });
    expect(await ourError(ours.listJobs())).toMatchObject({ code: 'HUME_SERVER_ERROR', retryable: true, retryAfterMs: 2000 });
  });

  it('an injected connection reset is a retryable network error for us', async () => {
    emulator.failNext({ count: 1, reset: true, route: 'details' });
    expect(await ourError(ours.getJob('00000000-0000-4000-8000-000000000000'))).toMatchObject({
      code: 'HUME_NETWORK',
      retryable: true,
    });
  });

  it('a FAILED job parses for both, with its message', async () => {
    emulator.failNextJobs(1, 'user has exceeded their usage limit');
    const id = await ours.startJob({ text: ['x'] });
    const job = await waitOurs(id);
    expect(job.state).toMatchObject({ status: 'FAILED', message: 'user has exceeded their usage limit' });
    expect(normalize(withoutTexts(await batch().getJobDetails(id)))).toEqual(normalize(job));
    expect(await ourError(ours.getPredictions(id))).toMatchObject({ code: 'HUME_BAD_REQUEST', retryable: false });
  });
});
