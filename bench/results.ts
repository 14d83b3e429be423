/**
 * Benchmark 5: large results. Completed jobs whose predictions add up to the configured size
 * (language at word granularity, ~2.7 kB per word) are streamed into a run folder and merged
 * into CSVs by the worker's activities, each phase in a child process of its own.
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createManifestActivities, loadBatchItems } from '../src/activities/manifest.js';
import { startHumeEmulator } from '../src/emulator/index.js';
import { HumeClient } from '../src/hume/client.js';
import { HUME_LIMITS } from '../src/hume/limits.js';
import { readJsonlPage } from '../src/manifest/index.js';
import { createStorage } from '../src/store/storage.js';
import type { BatchRange } from '../src/schemas/batch.js';
import { runChild } from './child.js';
import type { Benchmark } from './context.js';
import { writeTextManifest } from './manifest.js';
import { pool } from './pool.js';
import { mb, seconds } from './proc.js';
import type { PhaseFigures, ResultsJobs } from './results-child.js';
import { rowsOf } from './table.js';

const WORDS_PER_TEXT = 40;
/** Measured on the emulator: one language prediction per word, 53 emotions. */
const BYTES_PER_WORD = 2_700;
/** Stays under Hume's 500 queued jobs. */
const SUBMIT_CONCURRENCY = 100;
const CONFIG = { models: { language: {} } };

const longText = (n: number): string =>
  `${Array.from({ length: WORDS_PER_TEXT }, (_, w) => `word${(n * 31 + w) % 997}`).join(' ')}.`;

export const results: Benchmark = async (ctx) => {
  const jobCount = Math.ceil(ctx.config.resultsBytes / (HUME_LIMITS.maxTextsPerJob * WORDS_PER_TEXT * BYTES_PER_WORD));
  const manifestPath = await writeTextManifest(join(ctx.workDir, 'results.jsonl'), jobCount * HUME_LIMITS.maxTextsPerJob, longText);
  const runDir = join(ctx.workDir, 'results');
  const hume = await startHumeEmulator({ timing: { queuedMs: 0, processingMs: 0 } });
  try {
    ctx.log(`results: ${jobCount} jobs of ${HUME_LIMITS.maxTextsPerJob} texts`);
    const plan = await createManifestActivities().humePlanManifest({ runDir, manifest: { path: manifestPath }, config: CONFIG });
    const ranges = await readJsonlPage<BatchRange>(createStorage().file(plan.planPath).lines(), 0, plan.batches);
    const client = new HumeClient({ apiKey: hume.apiKey, baseUrl: hume.url });
    const jobs = await pool(ranges.length, SUBMIT_CONCURRENCY, async (i) => {
      const range = ranges[i] as BatchRange;
      const items = await loadBatchItems(plan.manifest, range, { baseDir: dirname(manifestPath), config: CONFIG });
      return { range, jobId: await client.startJob({ ...CONFIG, text: items.map((item) => item.value) }) };
    });
    // The phases measure our side only: they start from jobs the server has finished.
    while (hume.stats().jobsCompleted < jobs.length) await sleep(50);

    const jobsPath = join(ctx.workDir, 'results-jobs.json');
    await writeFile(jobsPath, JSON.stringify({ baseUrl: hume.url, apiKey: hume.apiKey, runDir, plan, config: CONFIG, jobs } satisfies ResultsJobs));
    ctx.log('results: streaming predictions to the folder');
    const stream = await runChild<PhaseFigures>('results-child', [jobsPath, 'stream']);
    ctx.log('results: merging');
    const merge = await runChild<PhaseFigures>('results-child', [jobsPath, 'merge']);
    const name = `${mb(stream.bytes)} of predictions, ${jobs.length} jobs`;
    const row = rowsOf('5 results', name);
    return [
      row('stream to folder: time (child CPU)', `${seconds(stream.ms)} (${seconds(stream.cpuMs)})`),
      row('stream to folder: peak RSS (loaded)', `${mb(stream.peakRss)} (${mb(stream.baseRss)})`),
      row('merge CSVs + index: time (child CPU)', `${seconds(merge.ms)} (${seconds(merge.cpuMs)})`),
      row('merge CSVs + index: peak RSS (loaded)', `${mb(merge.peakRss)} (${mb(merge.baseRss)})`),
      row('CSV written', `${mb(merge.bytes)}, ${merge.rows.toLocaleString('en')} rows`),
    ];
  } finally {
    await hume.close();
  }
};
