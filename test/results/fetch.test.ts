/**
 * humeFetchResults for a batch, against a real HTTP server on loopback: the job's shards and
 * outcome are written in one pass over predictions.json; an archive item (the faces.zip shape of
 * Hume's docs) yields a row per file inside it, with file counts in its index entry; and what the
 * activity returns (recorded in workflow history) names no URL, text, file or error message.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { HumeClient } from '../../src/hume/client.js';
import type { Predictions } from '../../src/hume/schemas.js';
import type { BatchRange, PlanResult } from '../../src/schemas/batch.js';
import type { StoredResults } from '../../src/schemas/humeJob.js';
import { fileResult, hashTree, readJsonl, textResult, urlResult } from './helpers.js';

const FACES = 'https://hume-tutorials.s3.amazonaws.com/faces.zip?X-Amz-Signature=secret-signature';
const PHOTO = 'https://x.test/photo.jpg?sig=abc';
const TEXT = 'A private text about Alice';
const INSIDE_FACES = ['faces/100.jpg', 'faces/101.jpg'];
const BAD_FACE = 'faces/102.jpg';
const FACE_ERROR = `${BAD_FACE}: no face found in this image`;
const INSIDE_CLIPS = ['clips/a.jpg'];
const CONFIG = { models: { face: {}, language: {} } };
const JOB_ID = 'job-archive';
const BAD_JOB_ID = 'job-bad';
/** A source without its `source`: not what Hume documents. */
const BAD_BODY = JSON.stringify([{ results: { predictions: [], errors: [] } }]);
const requests: string[] = [];

/** A source whose predictions are for files inside it, as Hume reports an archive (faces.zip, §4.3). */
function archive(result: Predictions[number], files: string[], errors: Array<{ file: string; message: string }> = []): Predictions[number] {
  const [prediction] = result.results!.predictions;
  return { ...result, results: { predictions: files.map((file) => ({ ...prediction!, file })), errors } };
}

let dir: string;
let runDir: string;
let server: Server;
let activities: ReturnType<typeof createActivities>;
let plan: PlanResult;
let range: BatchRange;
let clipsPath: string;
let stored: StoredResults;

const env = new MockActivityEnvironment();
const fetchInput = () => ({ jobId: JOB_ID, batch: { runDir, manifest: plan.manifest, range }, config: CONFIG });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fetch-'));
  runDir = join(dir, 'run');
  clipsPath = join(dir, 'clips.zip');
  await writeFile(clipsPath, 'not really a zip: Hume reads it, we only upload it');
  plan = await createActivities({ hume: new HumeClient({ apiKey: 'k' }) }).humePlanManifest({
    runDir,
    items: [{ id: 'faces', url: FACES }, { id: 'note', text: TEXT }, { id: 'clips', file: clipsPath }, { id: 'photo', url: PHOTO }],
    config: CONFIG,
    owner: { workflowId: 'fetch-test', firstExecutionRunId: 'run-1' },
  });
  range = JSON.parse((await readFile(plan.planPath, 'utf8')).split('\n')[0]!) as BatchRange;
  // Hume's order is not the manifest's.
  const predictions: Predictions = [
    { ...urlResult('https://x.test/p.jpg'), source: { type: 'url', url: PHOTO } },
    textResult(TEXT),
    archive({ ...fileResult('a.jpg'), source: { type: 'file', filename: '3-clips.zip', content_type: null, md5sum: 'm' } }, INSIDE_CLIPS),
    archive({ ...urlResult('https://x.test/f.jpg'), source: { type: 'url', url: FACES } }, INSIDE_FACES, [{ file: BAD_FACE, message: FACE_ERROR }]),
  ];
  const body = JSON.stringify(predictions);
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === `/v0/batch/jobs/${JOB_ID}/predictions`) res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    else if (req.url === `/v0/batch/jobs/${BAD_JOB_ID}/predictions`) res.writeHead(200, { 'content-type': 'application/json' }).end(BAD_BODY);
    else res.writeHead(404).end('{"message":"not found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const hume = new HumeClient({ apiKey: 'k', baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, maxRequestsPerSecond: Infinity });
  activities = createActivities({ hume });
  stored = (await env.run(activities.humeFetchResults, fetchInput())) as StoredResults;
  await env.run(activities.humeFinalizeRun, {
    runDir, runId: 'run-1', plan, validation: { config: CONFIG },
    run: { input: { config: CONFIG }, startedAt: 0, finishedAt: 1, state: 'completed' as const, humeJobsCreated: 1, resubmissions: 0 },
  });
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe('humeFetchResults', () => {
  it('returns counts, paths and hashes only: no URL, text, file name or per-file error message', () => {
    expect(stored.counts).toEqual({ sources: 4, sourcesWithPredictions: 4, sourcesFailed: 0, predictions: expect.any(Number), predictionErrors: 1 });
    expect(stored.batchItems).toEqual({ completed: 4, failed: 0 });
    expect(stored.predictionsPath).toBe(join(runDir, 'jobs', `0-${JOB_ID}`, 'predictions.json'));
    const json = JSON.stringify(stored);
    for (const secret of [FACES, 'secret-signature', PHOTO, TEXT, 'Alice', clipsPath, 'clips.zip', ...INSIDE_FACES, BAD_FACE, FACE_ERROR, ...INSIDE_CLIPS]) {
      expect(json).not.toContain(secret);
    }
  });

  it('writes the same shards and outcome again when the job is fetched again', async () => {
    const jobFolder = join(runDir, 'jobs', `0-${JOB_ID}`);
    const before = await hashTree(jobFolder);
    expect(Object.keys(before).sort()).toEqual(['outcome.json', 'predictions.json', 'rows/face.csv', 'rows/facemesh.csv', 'rows/language.csv', 'rows/ner.csv', 'shard.json']);
    const asked = requests.length;
    expect(await env.run(activities.humeFetchResults, fetchInput())).toEqual(stored);
    expect(await hashTree(jobFolder)).toEqual(before);
    // predictions.json was in place, whole: it is read again, not downloaded again.
    expect(requests.length).toBe(asked);
  });

  it('fails once, not forever, on predictions that are not what Hume documents', async () => {
    const failure = await env.run(activities.humeFetchResults, { ...fetchInput(), jobId: BAD_JOB_ID }).catch((e: unknown) => e);
    expect(failure).toMatchObject({ type: 'INVALID_PREDICTIONS', nonRetryable: true });
    expect((failure as Error).message).toMatch(/predictions\.json.* source 0/);
  });
});

describe('archive items', () => {
  it('say in index.jsonl how many files Hume reported in them and how many have predictions', async () => {
    const index = await readJsonl(join(runDir, 'index.jsonl'));
    expect(index.map(({ id, status, files, predicted_files }) => ({ id, status, files, predicted_files }))).toEqual([
      { id: 'faces', status: 'completed', files: 3, predicted_files: 2 },
      { id: 'note', status: 'completed', files: undefined, predicted_files: undefined },
      { id: 'clips', status: 'completed', files: 1, predicted_files: 1 },
      { id: 'photo', status: 'completed', files: undefined, predicted_files: undefined },
    ]);
    // The documented key order, counts after the status.
    expect(Object.keys(index[0]!)).toEqual(['id', 'line', 'source_type', 'source', 'batch', 'job_id', 'status', 'files', 'predicted_files']);
  });

  it('get a CSV row per file inside them, keyed by item id and inner path', async () => {
    const face = parse(await readFile(join(runDir, 'csv', 'face.csv'), 'utf8')) as string[][];
    expect(face.slice(1).map((r) => r.slice(0, 5).join('|'))).toEqual([
      `faces|1|${JOB_ID}|${FACES}|faces/100.jpg`,
      `faces|1|${JOB_ID}|${FACES}|faces/101.jpg`,
      `clips|3|${JOB_ID}|${clipsPath}|clips/a.jpg`,
      `photo|4|${JOB_ID}|${PHOTO}|`,
    ]);
  });
});
