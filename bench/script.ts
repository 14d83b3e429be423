/**
 * The baseline: the script a user writes with the official `hume` SDK, following its README —
 * start a job per 100 texts with bounded concurrency, `awaitCompletion()` (a getJobDetails poll
 * every second), fetch the predictions, write them to disk.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HumeClient } from 'hume';
import { HUME_LIMITS } from '../src/hume/limits.js';
import { pool } from './pool.js';

/** awaitCompletion's own default is 300 s; a 500-job run at 100 in flight waits longer than that. */
const AWAIT_TIMEOUT_SECONDS = 3_600;

export interface ScriptOptions {
  baseUrl: string;
  apiKey: string;
  manifestPath: string;
  outDir: string;
  concurrency: number;
  models: { language: { granularity: 'sentence' } };
}

/** Runs the script; resolves to its makespan in ms. */
export async function runScript(options: ScriptOptions): Promise<number> {
  const started = performance.now();
  const hume = new HumeClient({ apiKey: options.apiKey, environment: options.baseUrl });
  const lines = (await readFile(options.manifestPath, 'utf8')).split('\n').filter((line) => line !== '');
  const texts = lines.map((line) => (JSON.parse(line) as { text: string }).text);
  const batches = Array.from({ length: Math.ceil(texts.length / HUME_LIMITS.maxTextsPerJob) }, (_, i) =>
    texts.slice(i * HUME_LIMITS.maxTextsPerJob, (i + 1) * HUME_LIMITS.maxTextsPerJob),
  );
  await mkdir(options.outDir, { recursive: true });

  await pool(batches.length, options.concurrency, async (i) => {
    const job = await hume.expressionMeasurement.batch.startInferenceJob({ text: batches[i], models: options.models });
    await job.awaitCompletion(AWAIT_TIMEOUT_SECONDS);
    const predictions = await hume.expressionMeasurement.batch.getJobPredictions(job.jobId);
    await writeFile(join(options.outDir, `${job.jobId}.json`), JSON.stringify(predictions));
  });
  return performance.now() - started;
}
