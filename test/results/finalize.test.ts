/**
 * Finalize over a small synthetic run: index, per-model CSVs, summary and run.json, and the same
 * bytes on a rerun.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BURST_DESCRIPTIONS, EXPRESSIONS_48, EXPRESSIONS_53, SENTIMENT, TOXICITY } from '../../src/emulator/names.js';
import type { Predictions } from '../../src/hume/schemas.js';
import { mapSourcesToItems } from '../../src/results/mapping.js';
import type { FinalizeInput, RunSummary } from '../../src/activities/finalize.js';
import type { BatchRange } from '../../src/schemas/batch.js';
import {
  failedUrl, fileResult, finalize, hashTree, jsonlLoader, range, readJsonl, textResult, urlResult, writeRun,
  type RunFixture,
} from './helpers.js';

const TEXT_B = 'Alice met Bob in Paris. It was lovely!';
const TEXT_F = 'Hello, "world" again';
const MANIFEST = [
  { id: 'a', url: 'https://x.test/a.mp4' },
  { id: 'b', text: TEXT_B },
  { url: 5 },
  { id: 'c', file: '/data/c.jpg' },
  { id: 'd', url: 'https://x.test/a.mp4' },
  { id: 'e', url: 'https://x.test/broken.mp4' },
  { id: 'f', text: TEXT_F },
  { id: 'g', text: 'never ran' },
  { text: 5 },
  { id: 'h', url: 'https://x.test/h.wav' },
].map((line) => JSON.stringify(line));
const RANGES = [range(0, 1, 5, 4), range(1, 6, 7, 2), range(2, 8, 8, 1), range(3, 9, 10, 1)];

let dir: string;
let runDir: string;
let input: FinalizeInput;
let summary: RunSummary;
let batch0: Predictions;

/** A batch's outcome as the results activity builds it: its items mapped onto Hume's sources. */
async function completed(r: BatchRange, jobId: string, predictions: Predictions) {
  const items = await jsonlLoader({ path: join(runDir, 'manifest.jsonl'), format: 'jsonl', sha256: '' }, r, { config: {} });
  const predictionsPath = `jobs/${r.index}-${jobId}/predictions.json`;
  return { outcome: { batch: r.index, jobId, status: 'COMPLETED' as const, predictionsPath, items: mapSourcesToItems(predictions, items) }, predictions };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'finalize-'));
  runDir = join(dir, 'run-1');
  // Hume's order differs from the manifest's; `a.mp4` appears twice (items a and d).
  batch0 = [textResult(TEXT_B), urlResult('https://x.test/a.mp4'), fileResult('4-c.jpg'), urlResult('https://x.test/a.mp4')];
  const textF = textResult(TEXT_F);
  textF.results?.errors.push({ message: 'one segment unreadable', file: 'text' });
  const fixture: RunFixture = {
    manifest: MANIFEST,
    ranges: RANGES,
    invalid: [
      { line: 3, field: 'url', value: '5', rule: 'must be a string' },
      { line: 9, field: 'text', value: '5', rule: 'must be a string' },
    ],
    jobs: [],
  };
  // The manifest must exist before outcomes are mapped from it.
  await writeRun(runDir, fixture);
  fixture.jobs = [
    await completed(RANGES[0]!, 'job-0', batch0),
    // Batch 1 failed once, then its resubmission completed: the completed outcome wins.
    {
      outcome: {
        batch: 1, jobId: 'job-1a', status: 'FAILED', error: 'Hume job failed: boom',
        items: [{ line: 6, id: 'e', status: 'failed', error: 'boom' }, { line: 7, id: 'f', status: 'failed', error: 'boom' }],
      },
    },
    await completed(RANGES[1]!, 'job-1b', [failedUrl('https://x.test/broken.mp4', 'download failed: 404'), textF]),
    // Batch 2 never ran; batch 3 failed for good, its outcome listing no items.
    { outcome: { batch: 3, status: 'FAILED', error: 'Hume job failed 3 times: x', items: [] } },
  ];
  input = await writeRun(runDir, fixture);
  summary = await finalize(input);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const csv = async (model: string): Promise<string[][]> => parse(await readFile(join(runDir, 'csv', `${model}.csv`), 'utf8'));
/** Item ids of a CSV's rows, consecutive repeats collapsed. */
const itemRuns = (rows: string[][]) => rows.slice(1).map((r) => r[0]).filter((id, i, all) => id !== all[i - 1]);

describe('index.jsonl', () => {
  it('lists every item once in manifest line order, invalid lines merged in, texts by length only', async () => {
    const index = await readJsonl(join(runDir, 'index.jsonl'));
    expect(index).toEqual([
      { id: 'a', line: 1, source: { type: 'url', url: 'https://x.test/a.mp4' }, batch: 0, job_id: 'job-0', status: 'completed' },
      { id: 'b', line: 2, source: { type: 'text', text_chars: TEXT_B.length }, batch: 0, job_id: 'job-0', status: 'completed' },
      { line: 3, status: 'invalid', error: 'url: must be a string' },
      { id: 'c', line: 4, source: { type: 'file', file: '/data/c.jpg' }, batch: 0, job_id: 'job-0', status: 'completed' },
      { id: 'd', line: 5, source: { type: 'url', url: 'https://x.test/a.mp4' }, batch: 0, job_id: 'job-0', status: 'completed' },
      { id: 'e', line: 6, source: { type: 'url', url: 'https://x.test/broken.mp4' }, batch: 1, job_id: 'job-1b', status: 'failed', error: 'download failed: 404' },
      { id: 'f', line: 7, source: { type: 'text', text_chars: TEXT_F.length }, batch: 1, job_id: 'job-1b', status: 'completed' },
      { id: 'g', line: 8, source: { type: 'text', text_chars: 9 }, batch: 2, job_id: null, status: 'not_run' },
      { line: 9, status: 'invalid', error: 'text: must be a string' },
      { id: 'h', line: 10, source: { type: 'url', url: 'https://x.test/h.wav' }, batch: 3, job_id: null, status: 'failed', error: 'Hume job failed 3 times: x' },
    ]);
    expect(await readFile(join(runDir, 'index.jsonl'), 'utf8')).not.toContain('Alice');
  });
});

describe('csv/<model>.csv', () => {
  const prefix = ['item_id', 'file', 'group_id'];

  it('writes one file per model that produced predictions, with the documented columns', async () => {
    expect((await readdir(join(runDir, 'csv'))).sort()).toEqual(['burst.csv', 'face.csv', 'facemesh.csv', 'language.csv', 'ner.csv', 'prosody.csv']);
    expect((await csv('face'))[0]).toEqual([...prefix, 'frame', 'time', 'box_x', 'box_y', 'box_w', 'box_h', 'prob', ...EXPRESSIONS_48, 'extra']);
    expect((await csv('prosody'))[0]).toEqual([...prefix, 'time_begin', 'time_end', 'text', 'confidence', ...EXPRESSIONS_48, 'extra']);
    expect((await csv('burst'))[0]).toEqual([...prefix, 'time_begin', 'time_end', ...EXPRESSIONS_48, ...BURST_DESCRIPTIONS.map((n) => `desc_${n}`), 'extra']);
    expect((await csv('language'))[0]).toEqual([
      ...prefix, 'text', 'position_begin', 'position_end', 'time_begin', 'time_end', 'confidence', ...EXPRESSIONS_53,
      ...SENTIMENT.map((n) => `sentiment_${n}`), ...TOXICITY.map((n) => `toxicity_${n}`), 'extra',
    ]);
    expect((await csv('ner'))[0]).toEqual([
      ...prefix, 'entity', 'position_begin', 'position_end', 'entity_confidence', 'support', 'uri', 'link_word', ...EXPRESSIONS_53, 'extra',
    ]);
    expect((await csv('facemesh'))[0]).toEqual([...prefix, ...EXPRESSIONS_48, 'extra']);
  });

  it('orders rows by batch, then manifest line, then Hume order; every row is as wide as the header', async () => {
    expect(itemRuns(await csv('face'))).toEqual(['a', 'c', 'd']);
    expect(itemRuns(await csv('language'))).toEqual(['a', 'b', 'd', 'f']);
    for (const model of ['face', 'prosody', 'burst', 'language', 'ner', 'facemesh']) {
      const rows = await csv(model);
      expect(rows.length - 1).toBe(summary.csv[model as keyof RunSummary['csv']]);
      for (const row of rows) expect(row).toHaveLength(rows[0]!.length);
      for (const row of rows.slice(1)) expect(row.at(-1)).toBe(''); // Hume's names all have columns
    }
  });

  it('puts the prediction values in their columns (quoted where needed)', async () => {
    const face = await csv('face');
    const first = batch0[1]!.results!.predictions[0]!;
    const p = first.models.face!.grouped_predictions[0]!.predictions[0]!;
    expect(face[1]!.slice(0, 10)).toEqual(['a', first.file, 'unknown', ...[p.frame, p.time, p.box.x, p.box.y, p.box.w, p.box.h, p.prob].map(String)]);
    expect(face[1]!.slice(10, 58)).toEqual(p.emotions.map((e) => String(e.score)));

    const language = (await csv('language')).slice(1);
    expect(language.filter((r) => r[0] === 'b').map((r) => r[3])).toEqual(TEXT_B.split(' '));
    expect(language.filter((r) => r[0] === 'f').map((r) => r[3])).toEqual(TEXT_F.split(' '));
    const sentiment = language[0]!.slice(-16, -7).map(Number);
    expect(sentiment.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    expect((await csv('ner')).slice(1).filter((r) => r[0] === 'b').map((r) => r[3])).toEqual(['Alice', 'Bob', 'Paris', 'It']);
  });
});

describe('summary.json and run.json', () => {
  it('counts agree with the index and with what finalize returned', async () => {
    const index = await readJsonl(join(runDir, 'index.jsonl'));
    const count = (status: string) => index.filter((e) => e.status === status).length;
    expect(summary.items).toEqual({ completed: count('completed'), failed: count('failed'), invalid: count('invalid'), notRun: count('not_run') });
    expect(summary.items).toEqual({ completed: 5, failed: 2, invalid: 2, notRun: 1 });
    expect(summary.jobs).toEqual({ completed: 2, failed: 1 });
    expect(summary.fileErrors).toBe(1);
    expect(summary.paths).toEqual({ runDir, index: join(runDir, 'index.jsonl'), summary: join(runDir, 'summary.json') });

    const json = JSON.parse(await readFile(join(runDir, 'summary.json'), 'utf8'));
    expect(json).toMatchObject({
      runId: 'run-1',
      state: 'completed',
      items: summary.items,
      jobs: { completed: 2, failed: 1, notRun: 1 },
      humeJobsCreated: 5,
      resubmissions: 1,
      fileErrors: 1,
      timings: { startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:10:00.000Z', durationMs: 600_000 },
      csv: { face: { path: 'csv/face.csv', rows: summary.csv.face } },
      failures: [
        { batch: 1, job_id: 'job-1b', id: 'e', line: 6, error: 'download failed: 404' },
        { batch: 3, job_id: null, id: 'h', line: 10, error: 'Hume job failed 3 times: x' },
      ],
      failuresTruncated: false,
    });
  });

  it('run.json holds the input as given, the manifest reference and the models', async () => {
    const run = JSON.parse(await readFile(join(runDir, 'run.json'), 'utf8'));
    expect(run).toMatchObject({
      runId: 'run-1',
      input: { outDir: '/out', skipInvalid: true },
      manifest: { path: join(runDir, 'manifest.jsonl'), format: 'jsonl', sha256: 'f'.repeat(64) },
      models: { face: {}, language: { sentiment: {}, toxicity: {} } },
    });
  });
});

describe('rerun', () => {
  it('writes byte-identical files and leaves no temporary file', async () => {
    const before = await hashTree(runDir);
    expect(Object.keys(before).filter((path) => path.endsWith('.tmp'))).toEqual([]);
    expect(await finalize(input)).toEqual(summary);
    expect(await hashTree(runDir)).toEqual(before);
  });
});
