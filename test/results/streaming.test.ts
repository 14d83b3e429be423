/**
 * Finalize streams: 40 jobs of ~5 MB predictions (≈ 200 MB) go through while resident memory
 * grows by far less than the predictions' total, because one job is held at a time.
 */
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FinalizeInput } from '../../src/activities/finalize.js';
import { finalize, item, jsonlLoader, manifestLine, mapSources, range, textResult, writeRun } from './helpers.js';

const JOBS = 40;
const TEXTS_PER_JOB = 10;
const WORDS_PER_TEXT = 180; // ≈ 3 KB of language predictions per word: ≈ 5 MB per job

let dir: string;
let input: FinalizeInput;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'finalize-stream-'));
  const runDir = join(dir, 'run');
  const texts = Array.from({ length: TEXTS_PER_JOB }, (_, t) =>
    Array.from({ length: WORDS_PER_TEXT }, (_, w) => `word${t}x${w}`).join(' '));
  // Every job predicts the same texts, so one predictions file serves them all.
  const predictions = texts.map(textResult);
  const body = JSON.stringify(predictions);
  const items = Array.from({ length: JOBS * TEXTS_PER_JOB }, (_, i) => item(i + 1, 'text', texts[i % TEXTS_PER_JOB]!));
  const ranges = Array.from({ length: JOBS }, (_, b) => range(b, b * TEXTS_PER_JOB + 1, (b + 1) * TEXTS_PER_JOB, TEXTS_PER_JOB));
  input = await writeRun(runDir, {
    manifest: items.map(manifestLine),
    ranges,
    invalid: [],
    jobs: ranges.map((r) => ({
      outcome: {
        batch: r.index,
        jobId: `job-${r.index}`,
        status: 'COMPLETED' as const,
        predictionsPath: `jobs/${r.index}-job-${r.index}/predictions.json`,
        items: mapSources(predictions, items.slice(r.fromLine - 1, r.toLine)),
      },
      predictions: body,
    })),
  });
  // jsonlLoader must see the same items the outcomes were mapped from.
  expect((await jsonlLoader(input.plan.manifest, ranges[1]!, input.validation)).map((i) => i.line)).toEqual(items.slice(10, 20).map((i) => i.line));
}, 120_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

it('keeps rss growth bounded while finalizing ~200 MB of predictions', async () => {
  const perJob = (await stat(join(input.runDir, 'jobs/0-job-0/predictions.json'))).size;
  expect(perJob).toBeGreaterThan(4 * 1024 * 1024);

  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  try {
    const summary = await finalize(input);
    peak = Math.max(peak, process.memoryUsage.rss());
    expect(summary.items.completed).toBe(JOBS * TEXTS_PER_JOB);
    expect(summary.csv.language).toBe(JOBS * TEXTS_PER_JOB * WORDS_PER_TEXT);
  } finally {
    clearInterval(sampler);
  }
  // Measured ≈ 100 MB, the same with 100 jobs (550 MB): V8's heap headroom, not retained predictions.
  expect(JOBS * perJob).toBeGreaterThan(180 * 1024 * 1024);
  expect((peak - baseline) / 1024 / 1024).toBeLessThan(150);
  const csv = await open(join(input.runDir, 'csv/language.csv'));
  const head = 'item_id,line,job_id,source,source_inner_path,group_id,text';
  const { buffer } = await csv.read({ buffer: Buffer.alloc(head.length) });
  await csv.close();
  expect(buffer.toString()).toBe(head);
}, 300_000);
