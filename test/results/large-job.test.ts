/**
 * A job with 2 GB of predictions goes through humeFetchResults and humeFinalizeRun in a worker
 * process of its own whose peak resident memory stays under 400 MB: the predictions are
 * downloaded to disk, read once as a stream into the job's shards, and finalize copies the
 * shards' rows. The body is generated as it is served, by a real HTTP server on loopback.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createManifestActivities } from '../../src/activities/manifest.js';
import { EXPRESSIONS_53, SENTIMENT, TOXICITY } from '../../src/emulator/names.js';
import type { BatchRange, PlanResult } from '../../src/schemas/batch.js';
import type { StoredResults } from '../../src/schemas/humeJob.js';
import type { RunSummary } from '../../src/results/summary.js';

const TARGET_BYTES = 2 * 1024 ** 3;
const TEXTS = 20;
const MAX_PEAK_RSS = 400 * 1024 * 1024;
const JOB_ID = 'job-big';
const CHILD = fileURLToPath(new URL('./activity-child.ts', import.meta.url));

/** One word's language prediction, as Hume writes it: the word is the only part that changes. */
const score = (i: number) => (0.0123456789 + i / 1000).toFixed(10);
const scores = (names: readonly string[]) => names.map((name, i) => `{"name":${JSON.stringify(name)},"score":${score(i)}}`).join(',');
const BEFORE_WORD = '{"text":"';
const AFTER_WORD = `","position":{"begin":0,"end":9},"time":null,"confidence":null,"speaker_confidence":null,"emotions":[${scores(EXPRESSIONS_53)}],"sentiment":[${scores(SENTIMENT)}],"toxicity":[${scores(TOXICITY)}]}`;
const word = (i: number) => `w${String(i).padStart(8, '0')}`;
const PREDICTION_BYTES = BEFORE_WORD.length + word(0).length + AFTER_WORD.length;
const SOURCE_HEAD = '{"source":{"type":"text"},"results":{"predictions":[{"file":"text","file_type":"text","models":{"language":{"metadata":null,"grouped_predictions":[{"id":"unknown","predictions":[';
const SOURCE_TAIL = ']}]}}}],"errors":[]}}';
const WORDS = Math.ceil(TARGET_BYTES / TEXTS / (PREDICTION_BYTES + 1));
const BODY_BYTES = 2 + (TEXTS - 1) + TEXTS * (SOURCE_HEAD.length + SOURCE_TAIL.length + WORDS * PREDICTION_BYTES + (WORDS - 1));

/** The body, in chunks of a few MB: `[` source, … `]`, each source one text with WORDS word predictions. */
function* body(): Generator<string> {
  yield '[';
  for (let t = 0; t < TEXTS; t++) {
    yield `${t > 0 ? ',' : ''}${SOURCE_HEAD}`;
    for (let from = 0; from < WORDS; from += 1000) {
      const parts: string[] = [];
      for (let w = from; w < Math.min(WORDS, from + 1000); w++) parts.push(`${w > 0 ? ',' : ''}${BEFORE_WORD}${word(w)}${AFTER_WORD}`);
      yield parts.join('');
    }
    yield SOURCE_TAIL;
  }
  yield ']';
}

let dir: string;
let server: Server;
let baseUrl: string;
let servedSha256: string | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'large-job-'));
  server = createServer(async (req, res) => {
    if (req.method !== 'GET' || req.url !== `/v0/batch/jobs/${JOB_ID}/predictions`) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"not found"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(BODY_BYTES) });
    const hash = createHash('sha256');
    for (const chunk of body()) {
      hash.update(chunk);
      if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
    }
    res.end();
    servedSha256 = hash.digest('hex');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

/** Runs a task in the child; resolves with its JSON line. */
function runChild(taskPath: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, taskPath], { stdio: 'pipe' });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('exit', (code) => resolve({ code, out, err }));
  });
}

/** Newlines in a file, counted as it streams. */
async function countLines(path: string): Promise<number> {
  let lines = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
  }
  return lines;
}

it(`fetches and finalizes a job with ${(BODY_BYTES / 1024 ** 3).toFixed(1)} GB of predictions in under 400 MB of resident memory`, async () => {
  const runDir = join(dir, 'run');
  const config = { models: { language: {} } };
  const plan: PlanResult = await createManifestActivities().humePlanManifest({
    runDir,
    items: Array.from({ length: TEXTS }, (_, t) => ({ id: `text-${t}`, text: `the text numbered ${t}` })),
    config,
    owner: { workflowId: 'large-job', firstExecutionRunId: 'run-1' },
  });
  const range = JSON.parse((await readFile(plan.planPath, 'utf8')).split('\n')[0]!) as BatchRange;
  const taskPath = join(dir, 'task.json');
  await writeFile(taskPath, JSON.stringify({
    kind: 'fetchAndFinalize',
    baseUrl,
    fetch: { jobId: JOB_ID, batch: { runDir, manifest: plan.manifest, range }, config },
    finalize: {
      runDir, runId: 'large', plan, validation: { config },
      run: { input: { config }, startedAt: 0, finishedAt: 1, state: 'completed', humeJobsCreated: 1, resubmissions: 0 },
    },
  }));

  const { code, out, err } = await runChild(taskPath);
  expect(code, err).toBe(0);
  const result = JSON.parse(out.trim().split('\n').at(-1)!) as { stored: StoredResults; summary: RunSummary; fetchSeconds: number; seconds: number; peakRss: number };
  console.log(`${(BODY_BYTES / 1e9).toFixed(2)} GB, ${TEXTS * WORDS} rows: fetch ${result.fetchSeconds.toFixed(0)} s, fetch + finalize ${result.seconds.toFixed(0)} s, peak RSS ${(result.peakRss / 2 ** 20).toFixed(0)} MiB`);

  expect(result.stored).toMatchObject({ predictionsBytes: BODY_BYTES, predictionsSha256: servedSha256, batchItems: { completed: TEXTS, failed: 0 } });
  expect(result.stored.counts).toEqual({ sources: TEXTS, sourcesWithPredictions: TEXTS, sourcesFailed: 0, predictions: TEXTS * WORDS, predictionErrors: 0 });
  expect(result.summary.csv).toEqual({ language: TEXTS * WORDS });
  expect(await countLines(join(runDir, 'csv', 'language.csv'))).toBe(TEXTS * WORDS + 1);
  expect(result.peakRss).toBeLessThan(MAX_PEAK_RSS);
}, 3_600_000);
