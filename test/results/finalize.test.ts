/**
 * Finalize over a small synthetic run: index, per-model CSVs, summary and run.json, and the same
 * bytes on a rerun.
 */
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFinalizeActivities, type FinalizeDeps } from '../../src/activities/finalize.js';
import { createPlanRedrive, type RedrivePlan } from '../../src/activities/redrive.js';
import { BURST_DESCRIPTIONS, EXPRESSIONS_48, EXPRESSIONS_53, SENTIMENT, TOXICITY } from '../../src/emulator/names.js';
import type { Predictions } from '../../src/hume/schemas.js';
import type { FinalizeInput, RunSummary } from '../../src/activities/finalize.js';
import type { BatchRange } from '../../src/schemas/batch.js';
import { createStorage } from '../../src/store/storage.js';
import {
  failedUrl, fileResult, finalize, hashTree, jsonlLoader, mapSources, range, readJsonl, textResult, urlResult, writeRun,
  type RunFixture,
} from './helpers.js';

const humePlanRedrive = createPlanRedrive(createStorage());

const TEXT_B = 'Alice met Bob in Paris. It was lovely!';
const TEXT_F = 'Hello, "world" again';
const META_A = { speaker: { name: 'Ann', age: 41 }, tags: ['x', 'y'] };
const META_B = { site: 'north', consent: true };
const META_I = { speaker: { name: 'Ivy' } };
const MANIFEST = [
  { id: 'a', url: 'https://x.test/a.mp4', metadata: META_A },
  { id: 'b', text: TEXT_B, metadata: META_B },
  { url: 5 },
  { id: 'c', file: '/data/c.jpg' },
  { id: 'd', url: 'https://x.test/a.mp4' },
  { id: 'e', url: 'https://x.test/broken.mp4' },
  { id: 'f', text: TEXT_F },
  { id: 'g', text: 'never ran' },
  { text: 5 },
  { id: 'h', url: 'https://x.test/h.wav' },
  { id: 'i', url: 'https://x.test/i.wav', metadata: META_I },
].map((line) => JSON.stringify(line));
const RANGES = [range(0, 1, 5, 4), range(1, 6, 7, 2), range(2, 8, 8, 1), range(3, 9, 11, 2)];
/** Every item key in the manifest, flattened and sorted. */
const META_COLUMNS = ['meta.consent', 'meta.site', 'meta.speaker.age', 'meta.speaker.name', 'meta.tags'];

let dir: string;
let runDir: string;
let input: FinalizeInput;
let summary: RunSummary;
let batch0: Predictions;

/** A batch's outcome as the results activity builds it: its items mapped onto Hume's sources. */
async function completed(r: BatchRange, jobId: string, predictions: Predictions) {
  const items = await jsonlLoader({ path: join(runDir, 'manifest.jsonl'), format: 'jsonl', sha256: '' }, r, { config: {} });
  const predictionsPath = `jobs/${r.index}-${jobId}/predictions.json`;
  return { outcome: { batch: r.index, jobId, status: 'COMPLETED' as const, predictionsPath, items: mapSources(predictions, items) }, predictions };
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
    // Batch 2 never ran; batch 3 (items h and i) failed for good, its outcome listing no items.
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
  it('lists every item once in manifest line order, flat: source_type, source or text_chars, metadata as given', async () => {
    const index = await readJsonl(join(runDir, 'index.jsonl'));
    expect(index).toEqual([
      { id: 'a', line: 1, source_type: 'url', source: 'https://x.test/a.mp4', batch: 0, job_id: 'job-0', status: 'completed', metadata: META_A },
      { id: 'b', line: 2, source_type: 'text', text_chars: TEXT_B.length, batch: 0, job_id: 'job-0', status: 'completed', metadata: META_B },
      { line: 3, status: 'invalid', error: 'url: must be a string' },
      { id: 'c', line: 4, source_type: 'file', source: '/data/c.jpg', batch: 0, job_id: 'job-0', status: 'completed' },
      { id: 'd', line: 5, source_type: 'url', source: 'https://x.test/a.mp4', batch: 0, job_id: 'job-0', status: 'completed' },
      { id: 'e', line: 6, source_type: 'url', source: 'https://x.test/broken.mp4', batch: 1, job_id: 'job-1b', status: 'failed', error: 'download failed: 404' },
      { id: 'f', line: 7, source_type: 'text', text_chars: TEXT_F.length, batch: 1, job_id: 'job-1b', status: 'completed' },
      { id: 'g', line: 8, source_type: 'text', text_chars: 9, batch: 2, job_id: null, status: 'not_run' },
      { line: 9, status: 'invalid', error: 'text: must be a string' },
      { id: 'h', line: 10, source_type: 'url', source: 'https://x.test/h.wav', batch: 3, job_id: null, status: 'failed', error: 'Hume job failed 3 times: x' },
      { id: 'i', line: 11, source_type: 'url', source: 'https://x.test/i.wav', batch: 3, job_id: null, status: 'failed', error: 'Hume job failed 3 times: x', metadata: META_I },
    ]);
    // Texts by length only; keys in the documented order.
    const text = await readFile(join(runDir, 'index.jsonl'), 'utf8');
    expect(text).not.toContain('Alice');
    expect(text.split('\n')[0]).toBe(
      '{"id":"a","line":1,"source_type":"url","source":"https://x.test/a.mp4","batch":0,"job_id":"job-0","status":"completed","metadata":{"speaker":{"name":"Ann","age":41},"tags":["x","y"]}}',
    );
  });
});

describe('csv/<model>.csv', () => {
  const prefix = ['item_id', 'line', 'job_id', 'source', 'source_inner_path', 'group_id'];
  const suffix = ['other_scores', ...META_COLUMNS];

  it('writes one file per model that produced predictions, with the documented columns', async () => {
    expect((await readdir(join(runDir, 'csv'))).sort()).toEqual(['burst.csv', 'face.csv', 'facemesh.csv', 'language.csv', 'ner.csv', 'prosody.csv']);
    expect((await csv('face'))[0]).toEqual([...prefix, 'frame', 'time', 'box_x', 'box_y', 'box_w', 'box_h', 'prob', ...EXPRESSIONS_48, ...suffix]);
    expect((await csv('prosody'))[0]).toEqual([...prefix, 'time_begin', 'time_end', 'text', 'confidence', ...EXPRESSIONS_48, ...suffix]);
    expect((await csv('burst'))[0]).toEqual([...prefix, 'time_begin', 'time_end', ...EXPRESSIONS_48, ...BURST_DESCRIPTIONS.map((n) => `desc_${n}`), ...suffix]);
    expect((await csv('language'))[0]).toEqual([
      ...prefix, 'text', 'position_begin', 'position_end', 'time_begin', 'time_end', 'confidence', ...EXPRESSIONS_53,
      ...SENTIMENT.map((n) => `sentiment_${n}`), ...TOXICITY.map((n) => `toxicity_${n}`), ...suffix,
    ]);
    expect((await csv('ner'))[0]).toEqual([
      ...prefix, 'entity', 'position_begin', 'position_end', 'entity_confidence', 'support', 'uri', 'link_word', ...EXPRESSIONS_53, ...suffix,
    ]);
    expect((await csv('facemesh'))[0]).toEqual([...prefix, ...EXPRESSIONS_48, ...suffix]);
  });

  it('keys every row to its manifest item: id, line, job, the URL or path as given (not the upload name), no inner path', async () => {
    const keys = new Set((await csv('face')).slice(1).map((r) => r.slice(0, 5).join('|')));
    expect([...keys]).toEqual([
      'a|1|job-0|https://x.test/a.mp4|',
      'c|4|job-0|/data/c.jpg|',
      'd|5|job-0|https://x.test/a.mp4|',
    ]);
    const language = new Set((await csv('language')).slice(1).map((r) => r.slice(0, 5).join('|')));
    expect([...language]).toEqual(['a|1|job-0|https://x.test/a.mp4|', 'b|2|job-0||', 'd|5|job-0|https://x.test/a.mp4|', 'f|7|job-1b||']);
  });

  it("flattens each item's metadata into meta.<key> columns, nested keys joined with dots, empty where absent", async () => {
    const rows = await csv('language');
    const header = rows[0]!;
    const metaOf = (id: string) => {
      const row = rows.find((r) => r[0] === id)!;
      return Object.fromEntries(META_COLUMNS.map((name) => [name, row[header.indexOf(name)]]));
    };
    expect(metaOf('a')).toEqual({ 'meta.consent': '', 'meta.site': '', 'meta.speaker.age': '41', 'meta.speaker.name': 'Ann', 'meta.tags': '["x","y"]' });
    expect(metaOf('b')).toEqual({ 'meta.consent': 'true', 'meta.site': 'north', 'meta.speaker.age': '', 'meta.speaker.name': '', 'meta.tags': '' });
    expect(metaOf('f')).toEqual(Object.fromEntries(META_COLUMNS.map((name) => [name, ''])));
    // Item i never got a row, yet its key is a column: the header follows every item of the run.
    expect(rows.some((r) => r[0] === 'i')).toBe(false);
  });

  it('orders rows by batch, then manifest line, then Hume order; every row is as wide as the header', async () => {
    expect(itemRuns(await csv('face'))).toEqual(['a', 'c', 'd']);
    expect(itemRuns(await csv('language'))).toEqual(['a', 'b', 'd', 'f']);
    for (const model of ['face', 'prosody', 'burst', 'language', 'ner', 'facemesh']) {
      const rows = await csv(model);
      expect(rows.length - 1).toBe(summary.csv[model as keyof RunSummary['csv']]);
      for (const row of rows) expect(row).toHaveLength(rows[0]!.length);
      const other = rows[0]!.indexOf('other_scores');
      for (const row of rows.slice(1)) expect(row[other]).toBe(''); // Hume's names all have columns
    }
  });

  it('puts the prediction values in their columns (quoted where needed)', async () => {
    const face = await csv('face');
    const first = batch0[1]!.results!.predictions[0]!;
    const p = first.models.face!.grouped_predictions[0]!.predictions[0]!;
    expect(face[1]!.slice(0, 13)).toEqual([
      'a', '1', 'job-0', 'https://x.test/a.mp4', '', 'unknown', ...[p.frame, p.time, p.box.x, p.box.y, p.box.w, p.box.h, p.prob].map(String),
    ]);
    expect(face[1]!.slice(13, 61)).toEqual(p.emotions.map((e) => String(e.score)));

    const [header, ...language] = await csv('language');
    const text = header!.indexOf('text');
    expect(language.filter((r) => r[0] === 'b').map((r) => r[text])).toEqual(TEXT_B.split(' '));
    expect(language.filter((r) => r[0] === 'f').map((r) => r[text])).toEqual(TEXT_F.split(' '));
    const firstSentiment = header!.indexOf(`sentiment_${SENTIMENT[0]}`);
    const sentiment = language[0]!.slice(firstSentiment, firstSentiment + SENTIMENT.length).map(Number);
    expect(sentiment.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    const [nerHeader, ...ner] = await csv('ner');
    expect(ner.filter((r) => r[0] === 'b').map((r) => r[nerHeader!.indexOf('entity')])).toEqual(['Alice', 'Bob', 'Paris', 'It']);
  });
});

describe('summary.json and run.json', () => {
  it('counts agree with the index and with what finalize returned', async () => {
    const index = await readJsonl(join(runDir, 'index.jsonl'));
    const count = (status: string) => index.filter((e) => e.status === status).length;
    expect(summary.items).toEqual({ completed: count('completed'), failed: count('failed'), invalid: count('invalid'), notRun: count('not_run') });
    expect(summary.items).toEqual({ completed: 5, failed: 3, invalid: 2, notRun: 1 });
    expect(summary.jobs).toEqual({ completed: 2, failed: 1 });
    expect(summary.predictionErrors).toBe(1);
    expect(summary.paths).toEqual({ runDir, index: join(runDir, 'index.jsonl'), summary: join(runDir, 'summary.json') });

    const json = JSON.parse(await readFile(join(runDir, 'summary.json'), 'utf8'));
    expect(json).toMatchObject({
      runId: 'run-1',
      state: 'completed',
      items: summary.items,
      jobs: { completed: 2, failed: 1, notRun: 1 },
      humeJobsCreated: 5,
      resubmissions: 1,
      // Per-file errors inside completed jobs, counted apart from failed items (f completed with one).
      predictionErrors: 1,
      timings: { startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:10:00.000Z', durationMs: 600_000 },
      csv: { face: { path: 'csv/face.csv', rows: summary.csv.face } },
      metaColumns: META_COLUMNS.length,
      metaColumnsTruncated: false,
      failuresTruncated: false,
    });
    expect(json).not.toHaveProperty('fileErrors');
    // A batch's error once, with its item count; an item's own error in a completed job apart.
    expect(json.failures).toEqual([
      { batch: 1, job_id: 'job-1b', kind: 'item', error: 'download failed: 404', items: 1 },
      { batch: 3, job_id: null, kind: 'batch', error: 'Hume job failed 3 times: x', items: 2 },
    ]);
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

describe('archives, sources no item claimed, and where meta columns come from', () => {
  const ARCHIVE_MANIFEST = [
    { id: 'z', file: '/data/clips.zip', metadata: { k: 'v' } },
    { id: 'u', url: 'https://x.test/pack.tar.gz?sig=1' },
    { id: 'p', url: 'https://x.test/p.jpg' },
  ].map((line) => JSON.stringify(line));
  const R = range(0, 1, 3, 3);

  /** A source whose predictions are for files inside it, named as Hume names them. */
  function inside<T extends Predictions[number]>(result: T, source: Record<string, unknown>, files: string[]): T {
    const [prediction] = result.results!.predictions;
    return { ...result, source: { ...result.source, ...source }, results: { ...result.results!, predictions: files.map((file) => ({ ...prediction!, file })) } };
  }

  async function archiveRun(name: string, manifest?: Partial<FinalizeInput['plan']['manifest']>) {
    const archiveDir = join(dir, name);
    await writeRun(archiveDir, { manifest: ARCHIVE_MANIFEST, ranges: [R], invalid: [], jobs: [] });
    const predictions: Predictions = [
      urlResult('https://x.test/p.jpg'),
      inside(fileResult('1-a.jpg'), { filename: '1-clips.zip' }, ['clips/a.jpg', 'clips/b.jpg']),
      inside(urlResult('https://x.test/c.jpg'), { url: 'https://x.test/pack.tar.gz?sig=1' }, ['inner/c.jpg']),
      urlResult('https://x.test/stray.jpg'),
    ];
    const items = await jsonlLoader({ path: join(archiveDir, 'manifest.jsonl'), format: 'jsonl', sha256: '' }, R, { config: {} });
    const outcome = { batch: 0, jobId: 'job-a', status: 'COMPLETED' as const, predictionsPath: 'jobs/0-job-a/predictions.json', items: mapSources(predictions, items) };
    const run = await writeRun(archiveDir, { manifest: ARCHIVE_MANIFEST, ranges: [R], invalid: [], jobs: [{ outcome, predictions }] });
    run.plan.manifest = { ...run.plan.manifest, ...manifest };
    const loads: number[] = [];
    const loadItems: FinalizeDeps['loadItems'] = (m, r, v) => {
      loads.push(r.index);
      return jsonlLoader(m, r, v);
    };
    const { humeFinalizeRun } = createFinalizeActivities({ loadItems });
    await new MockActivityEnvironment().run(humeFinalizeRun, run);
    return { face: await parseCsv(join(archiveDir, 'csv', 'face.csv')), loads };
  }
  const parseCsv = async (path: string): Promise<string[][]> => parse(await readFile(path, 'utf8'));

  it('names the file inside an archive in source_inner_path, the archive itself in source; a stray source as Hume named it', async () => {
    const { face } = await archiveRun('archives');
    const header = face[0]!;
    const keys = [...new Set(face.slice(1).map((r) => [...r.slice(0, 5), r[header.indexOf('meta.k')]].join('|')))];
    expect(keys).toEqual([
      'z|1|job-a|/data/clips.zip|clips/a.jpg|v',
      'z|1|job-a|/data/clips.zip|clips/b.jpg|v',
      'u|2|job-a|https://x.test/pack.tar.gz?sig=1|inner/c.jpg|',
      'p|3|job-a|https://x.test/p.jpg||',
      '||job-a|https://x.test/stray.jpg|stray.jpg|',
    ]);
  });

  it('reads a JSONL run twice (a first pass for the meta keys); a CSV manifest once, its header naming the meta columns', async () => {
    expect((await archiveRun('jsonl')).loads).toEqual([0, 0]);
    const csvRun = await archiveRun('csv', { format: 'csv', csvHeader: 'id,file,url,k,site' });
    expect(csvRun.loads).toEqual([0]);
    expect(csvRun.face[0]!.slice(-3)).toEqual(['other_scores', 'meta.k', 'meta.site']);
  });
});

describe('humePlanRedrive over the flat index', () => {
  /** The lines of each batch the redrive plans, with its counts by kind. */
  async function redo(from: string): Promise<unknown[]> {
    await writeFile(join(from, 'plan.json'), JSON.stringify({ ...input.plan, invalid: [] }));
    const planned = (await new MockActivityEnvironment().run(humePlanRedrive, { runDir: from, name: 'redrive-t' })) as RedrivePlan;
    return (await readJsonl(planned.plan.planPath)).map(({ index, lines, urls, texts, files }) => ({ index, lines, urls, texts, files }));
  }
  const expected = [
    { index: 1, lines: [6], urls: 1, texts: 0, files: 0 },
    { index: 2, lines: [8], urls: 0, texts: 1, files: 0 },
    { index: 3, lines: [10, 11], urls: 2, texts: 0, files: 0 },
  ];

  it('counts failed and not-run items by source_type', async () => {
    const copy = join(dir, 'redrive-flat');
    await cp(runDir, copy, { recursive: true });
    expect(await redo(copy)).toEqual(expected);
  });

  it('still reads the index of a folder finalized before it was flat (`source: {type}`)', async () => {
    const copy = join(dir, 'redrive-legacy');
    await cp(runDir, copy, { recursive: true });
    const legacy = (await readJsonl(join(copy, 'index.jsonl'))).map(({ source_type, source, text_chars, ...rest }) =>
      source_type === undefined ? rest : { ...rest, source: { type: source_type, ...(source === undefined ? { text_chars } : { [String(source_type)]: source }) } });
    await writeFile(join(copy, 'index.jsonl'), legacy.map((l) => `${JSON.stringify(l)}\n`).join(''));
    expect(await redo(copy)).toEqual(expected);
  });
});
