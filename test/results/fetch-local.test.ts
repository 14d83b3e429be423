/**
 * humeFetchResults run inside a workflow task (a local activity, as humeJob runs it for a few
 * short texts): it waits for a transfer slot only briefly — with every slot of the worker held
 * longer it sends no request and fails, for the scheduled fetch to take over — and it leaves no scratch copy behind,
 * since it records no heartbeat a retry could resume from. The scheduled fetch does wait, and
 * keeps a cut download's copy for its retry. Against a real HTTP server on loopback and a real S3
 * server (a folder in S3 is what takes a scratch copy).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { IN_TASK_SLOT_WAIT_MS } from '../../src/activities/in-task.js';
import { scratchFolder } from '../../src/activities/results.js';
import { type S3Server, startS3Server } from '../../src/devserver/s3-server.js';
import { HumeClient } from '../../src/hume/client.js';
import { sharedTransferSlots } from '../../src/hume/transfer-slots.js';
import { createStorage } from '../../src/store/storage.js';
import { API_KEY, startServer, type TestServer } from '../hume/helpers.js';
import { readObject } from '../helpers/s3.js';
import { FETCH_HANDED_OVER } from '../../src/workflows/definitions.js';
import { textResult } from './helpers.js';

const PREDICTIONS = JSON.stringify([textResult('a short text, fetched inside a workflow task')]);

let dir: string;
let s3: S3Server;
let hume: TestServer;
let activities: ReturnType<typeof createActivities>;
let client: HumeClient;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fetch-local-'));
  s3 = await startS3Server();
  await s3.createBucket('results');
  hume = await startServer(async (req, res) => {
    if (req.url.startsWith('/v0/batch/jobs/held/')) {
      // A slow download that holds the worker's only transfer slot until the test stops it.
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '1000000' });
      res.write(Buffer.alloc(1024));
      return;
    }
    const body = Buffer.from(PREDICTIONS);
    if (req.url === '/v0/batch/jobs/cut/predictions') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
      res.write(body.subarray(0, body.length >> 1));
      setTimeout(() => res.socket?.destroy(), 50);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) }).end(body);
  });
  client = new HumeClient({ apiKey: API_KEY, baseUrl: hume.url, maxConcurrentTransfers: 1, maxRequestsPerSecond: Infinity });
  activities = createActivities({ hume: client, storage: createStorage({ s3: s3.client() }) });
}, 60_000);
afterAll(async () => {
  await hume?.close();
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

const insideATask = () => new MockActivityEnvironment({ isLocal: true });
const scheduled = () => new MockActivityEnvironment();
/** This file's own folder in the bucket: a scratch folder named for one of its jobs is this file's. */
const folder = randomUUID();
const resultDir = (jobId: string) => `s3://results/${folder}/${jobId}`;
const fetchInto = (env: MockActivityEnvironment, jobId: string) => env.run(activities.humeFetchResults, { jobId, resultDir: resultDir(jobId) });
const predictionRequests = (jobId: string) => hume.requests.filter((r) => r.url === `/v0/batch/jobs/${jobId}/predictions`).length;
/** What is in a job's scratch folder (inside a task or scheduled), or undefined when there is none. */
const scratchOf = (jobId: string, local: boolean) => readdir(scratchFolder(resultDir(jobId), local)).catch(() => undefined);

describe('a fetch inside a workflow task', () => {
  it(`sends nothing while every transfer slot stays held for ${IN_TASK_SLOT_WAIT_MS} ms and fails, for the scheduled fetch to take over; the scheduled one waits for the slot`, async () => {
    const slots = sharedTransferSlots(hume.url, 1);
    const stopHolder = new AbortController();
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const holder = client.downloadArtifacts('held', join(dir, 'held.zip'), { signal: stopHolder.signal, onProgress: () => holding() });
    await held;

    // Benign: the worker logs it at debug, not as a failed activity.
    const refused = fetchInto(insideATask(), 'busy');
    await vi.waitFor(() => expect(slots.waiting).toBe(1));
    await expect(refused).rejects.toMatchObject({ type: FETCH_HANDED_OVER, nonRetryable: true, category: 'BENIGN' });
    expect(predictionRequests('busy')).toBe(0);
    expect({ running: slots.running, waiting: slots.waiting }).toEqual({ running: 1, waiting: 0 });

    const waiting = fetchInto(scheduled(), 'busy');
    await vi.waitFor(() => expect(slots.waiting).toBe(1));
    stopHolder.abort(new Error('test over'));
    await expect(holder).rejects.toThrow('test over');
    await expect(waiting).resolves.toMatchObject({ predictionsPath: `${resultDir('busy')}/predictions.json`, counts: expect.anything() });
    expect(await readObject(s3.client(), 'results', `${folder}/busy/predictions.json`)).toBe(PREDICTIONS);
    expect(predictionRequests('busy')).toBe(1);
  });

  it('takes a slot freed while it waits', async () => {
    const slots = sharedTransferSlots(hume.url, 1);
    const release = await slots.acquire();
    const fetching = fetchInto(insideATask(), 'freed');
    await vi.waitFor(() => expect(slots.waiting).toBe(1));
    release();
    await expect(fetching).resolves.toMatchObject({ predictionsPath: `${resultDir('freed')}/predictions.json` });
    expect(predictionRequests('freed')).toBe(1);
  });

  it('leaves no scratch copy, cut or complete; a scheduled fetch keeps its cut copy for the retry to resume', async () => {
    await expect(fetchInto(insideATask(), 'cut')).rejects.toThrow();
    expect(predictionRequests('cut')).toBe(1);
    expect(await scratchOf('cut', true)).toBeUndefined();

    await expect(fetchInto(insideATask(), 'whole')).resolves.toMatchObject({ predictionsPath: `${resultDir('whole')}/predictions.json` });
    expect(await scratchOf('whole', true)).toBeUndefined();

    try {
      await expect(fetchInto(scheduled(), 'cut')).rejects.toThrow();
      expect(await scratchOf('cut', false)).toContain('predictions.json.partial');
      expect(await scratchOf('cut', true)).toBeUndefined();
    } finally {
      await rm(scratchFolder(resultDir('cut'), false), { recursive: true, force: true });
    }
  });
});
