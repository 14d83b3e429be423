/**
 * Conformance: the official `hume` SDK 0.15.17 drives the emulator with zero errors, and every
 * JSON body it receives parses STRICTLY with the SDK's own serialization schemas (the SDK itself
 * skips validation, so a wrong shape would otherwise pass unnoticed).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HumeClient } from 'hume';
import * as serialization from 'hume/serialization';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHumeEmulator, type HumeEmulator } from '../../src/emulator/index.js';
import { wav, writeTar, writeTree, writeZip } from './fixtures/media.js';
import { localServer, submit, waitForStatus } from './helpers.js';

const batch = serialization.expressionMeasurement.batch;

/** Strict: validation on, unknown union members and enum values refused. */
const STRICT = {
  unrecognizedObjectKeys: 'passthrough',
  allowUnrecognizedUnionMembers: false,
  allowUnrecognizedEnumValues: false,
  skipValidation: false,
  breadcrumbsPrefix: ['response'],
} as const;
/**
 * Keys seen in real payloads but absent from the SDK's schemas (hume-batch-api.md §3, §4); with
 * them removed, even unknown keys are refused, so a misspelt key cannot slip through.
 */
const KNOWN_EXTRA_KEYS = new Set(['user_id', 'file_type']);
const withoutExtraKeys = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(withoutExtraKeys)
    : value && typeof value === 'object'
      ? Object.fromEntries(Object.entries(value).filter(([k]) => !KNOWN_EXTRA_KEYS.has(k)).map(([k, v]) => [k, withoutExtraKeys(v)]))
      : value;

interface Schema { parseOrThrow(raw: unknown, opts: object): unknown }
function parseStrictly(schema: Schema, json: unknown): void {
  schema.parseOrThrow(json, STRICT);
  schema.parseOrThrow(withoutExtraKeys(json), { ...STRICT, unrecognizedObjectKeys: 'fail' });
}

/** The schema of each endpoint's JSON answer, by method and path. */
function schemaFor(method: string, path: string): Schema | undefined {
  if (method === 'POST' && path === '/v0/batch/jobs') return batch.JobId;
  if (method !== 'GET') return undefined;
  if (path === '/v0/batch/jobs') return batch.listJobs.Response;
  if (/^\/v0\/batch\/jobs\/[^/]+$/.test(path)) return batch.UnionJob;
  if (path.endsWith('/predictions')) return batch.getJobPredictions.Response;
  return undefined;
}

/** Every JSON answer the SDK receives, recorded through its `fetch` option. */
const received: { method: string; path: string; status: number; json: unknown }[] = [];
const recordingFetch: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (res.headers.get('content-type')?.includes('application/json')) {
    received.push({ method: init?.method ?? 'GET', path: url.pathname, status: res.status, json: await res.clone().json() });
  }
  return res;
};

let emulator: HumeEmulator;
let client: HumeClient;
let media: Awaited<ReturnType<typeof localServer>>;
/** The tutorial's archives: faces in a folder, and a recording. */
const ARCHIVED = { 'faces/100.jpg': 'face 100', 'faces/101.jpg': 'face 101', 'faces/more/102.png': 'face 102', 'talk.wav': wav(1) };
let archives: string;
let facesZip: Buffer;
beforeAll(async () => {
  archives = await mkdtemp(join(tmpdir(), 'sdk-archives-'));
  await writeTree(join(archives, 'tree'), ARCHIVED);
  await writeZip(join(archives, 'faces.zip'), ARCHIVED);
  writeTar(join(archives, 'faces.tar.gz'), join(archives, 'tree'), '-czf');
  facesZip = await readFile(join(archives, 'faces.zip'));
  emulator = await startHumeEmulator({ timing: { queuedMs: [20, 60], processingMs: [20, 60] } });
  client = new HumeClient({ apiKey: emulator.apiKey, environment: emulator.url, fetch: recordingFetch });
  media = await localServer((req, res) => {
    if (req.url === '/talk.mp4') res.writeHead(200, { 'content-type': 'video/mp4' }).end(Buffer.alloc(2048, 7));
    else if (req.url === '/faces.zip') res.writeHead(200, { 'content-type': 'application/zip' }).end(facesZip);
    else res.writeHead(404).end();
  });
});
afterAll(async () => {
  await emulator.close();
  await media.close();
  await rm(archives, { recursive: true, force: true });
});

describe('official hume SDK 0.15.17', () => {
  it('starts jobs from urls and texts, waits with awaitCompletion, reads details, predictions and artifacts', async () => {
    const batchClient = client.expressionMeasurement.batch;
    const job = await batchClient.startInferenceJob({
      urls: [`${media.url}/talk.mp4`, 'https://example.test/photo.jpg', `${media.url}/missing.wav`],
      text: ['Hume speaks the v0 contract. Really!'],
      models: {
        face: { facs: {}, descriptions: {}, identifyFaces: true },
        burst: {},
        prosody: { granularity: 'word', identifySpeakers: true },
        language: { granularity: 'sentence', sentiment: {}, toxicity: {} },
        ner: {},
        facemesh: {},
      },
      transcription: { language: 'en', identifySpeakers: true },
      notify: false,
    });
    expect(job.jobId).toMatch(/^[0-9a-f-]{36}$/);
    await job.awaitCompletion(20);

    const details = await batchClient.getJobDetails(job.jobId);
    expect(details.state.status).toBe('COMPLETED');
    const predictions = await batchClient.getJobPredictions(job.jobId);
    expect(predictions).toHaveLength(4);
    expect(predictions[2]?.error).toContain('HTTP 404');
    const artifacts = await batchClient.getJobArtifacts(job.jobId);
    const zip = Buffer.from(await artifacts.arrayBuffer());
    expect(zip.subarray(0, 2).toString()).toBe('PK');
  });

  it('starts a job from local files with a json config', async () => {
    const batchClient = client.expressionMeasurement.batch;
    const job = await batchClient.startInferenceJobFromLocalFile({
      json: { models: { face: {}, prosody: { window: { length: 2, step: 1 } } } },
      file: [
        { data: Buffer.from('jpeg bytes'), filename: 'face.jpg', contentType: 'image/jpeg' },
        { data: Buffer.from('wav bytes'), filename: 'voice.wav', contentType: 'audio/wav' },
        { data: Buffer.from('notes'), filename: 'notes.txt', contentType: 'text/plain' },
      ],
    });
    await waitForStatus(emulator, job.jobId);
    const details = await batchClient.getJobDetails(job.jobId);
    expect(details.request.files.map((f) => f.filename)).toEqual(['face.jpg', 'voice.wav', 'notes.txt']);
    const predictions = await batchClient.getJobPredictions(job.jobId);
    expect(predictions[2]?.results?.errors).toHaveLength(1); // neither face nor prosody applies to text
  });

  it('expands archives: a .zip by URL and a local .tar.gz give one prediction per file inside, and artifacts', async () => {
    const batchClient = client.expressionMeasurement.batch;
    const inside = Object.keys(ARCHIVED).sort();
    const byUrl = await batchClient.startInferenceJob({ urls: [`${media.url}/faces.zip`], models: { face: {}, prosody: {} } });
    const local = await batchClient.startInferenceJobFromLocalFile({
      json: { models: { face: {}, prosody: {} } },
      file: [{ data: await readFile(join(archives, 'faces.tar.gz')), filename: 'faces.tar.gz', contentType: 'application/gzip' }],
    });
    for (const job of [byUrl, local]) {
      await waitForStatus(emulator, job.jobId);
      const details = await batchClient.getJobDetails(job.jobId);
      expect(details.state).toMatchObject({ status: 'COMPLETED', numPredictions: inside.length, numErrors: 0 });
      const predictions = await batchClient.getJobPredictions(job.jobId);
      expect(predictions).toHaveLength(1);
      expect(predictions[0]?.results?.predictions.map((p) => p.file).sort()).toEqual(inside);
      const zip = Buffer.from(await (await batchClient.getJobArtifacts(job.jobId)).arrayBuffer());
      expect(zip.subarray(0, 2).toString()).toBe('PK');
    }
  });

  it('lists with every filter', async () => {
    const slow = await startHumeEmulator({ timing: { queuedMs: 5_000, processingMs: 0 } });
    try {
      const sdk = new HumeClient({ apiKey: slow.apiKey, baseUrl: slow.url, fetch: recordingFetch });
      const queued = await sdk.expressionMeasurement.batch.startInferenceJob({ text: ['waiting'] });
      const jobs = await sdk.expressionMeasurement.batch.listJobs({
        status: ['QUEUED', 'IN_PROGRESS'], when: 'created_before', timestampMs: Date.now() + 1_000,
        sortBy: 'created', direction: 'asc', limit: 10,
      });
      expect(jobs.map((j) => j.jobId)).toEqual([queued.jobId]);
    } finally {
      await slow.close();
    }
    const all = await client.expressionMeasurement.batch.listJobs({ sortBy: 'ended', direction: 'desc' });
    expect(all.length).toBeGreaterThanOrEqual(2);
  });

  it('sees FAILED and IN_PROGRESS jobs', async () => {
    emulator.failNextJobs(1, 'usage limit exceeded');
    const failed = await client.expressionMeasurement.batch.startInferenceJob({ text: ['x'] });
    await failed.awaitCompletion(20);
    const details = await client.expressionMeasurement.batch.getJobDetails(failed.jobId);
    expect(details.state).toMatchObject({ status: 'FAILED', message: 'usage limit exceeded' });

    const running = await startHumeEmulator({ timing: { queuedMs: 0, processingMs: 5_000 } });
    try {
      const sdk = new HumeClient({ apiKey: running.apiKey, baseUrl: running.url, fetch: recordingFetch });
      const id = await submit(running, { text: ['slow'] });
      await waitForStatus(running, id, ['IN_PROGRESS']);
      expect((await sdk.expressionMeasurement.batch.getJobDetails(id)).state.status).toBe('IN_PROGRESS');
    } finally {
      await running.close();
    }
  });

  it('retries an injected 503 and 429 by itself and succeeds', async () => {
    emulator.failNext({ count: 1, route: 'list', status: 503, retryAfterSeconds: 0 });
    emulator.failNext({ count: 1, route: 'list', status: 429, retryAfterSeconds: 0 });
    await expect(client.expressionMeasurement.batch.listJobs({ limit: 1 })).resolves.toHaveLength(1);
  });

  it('parses every JSON answer the SDK received with its own schemas, strictly', () => {
    const checked = received.filter((r) => r.status === 200);
    const statuses = new Set<string>();
    const sources = new Set<string>();
    for (const r of checked) {
      const schema = schemaFor(r.method, r.path);
      expect(schema, `${r.method} ${r.path}`).toBeDefined();
      parseStrictly(schema!, r.json);
      if (batch.UnionJob === schema) statuses.add((r.json as { state: { status: string } }).state.status);
      if (batch.getJobPredictions.Response === schema) for (const p of r.json as { source: { type: string } }[]) sources.add(p.source.type);
    }
    // The documented variants were all exercised above.
    expect([...statuses].sort()).toEqual(['COMPLETED', 'FAILED', 'IN_PROGRESS', 'QUEUED']);
    expect([...sources].sort()).toEqual(['file', 'text', 'url']);
    expect(checked.some((r) => schemaFor(r.method, r.path) === batch.JobId)).toBe(true);
    expect(checked.some((r) => schemaFor(r.method, r.path) === batch.listJobs.Response)).toBe(true);
  });
});
