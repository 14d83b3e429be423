/**
 * Benchmark 6: transfers. (a) Through a bandwidth-limited TCP proxy on loopback, how much of the
 * link an upload of local files and a predictions download use (target ≥ 90 %). (b) The worker's
 * peak RSS while fetching and finalizing one job whose predictions are 100 MB, 500 MB and 2 GB
 * (one text at word granularity: a single source as large as it gets), each phase in a child
 * process of its own (target: flat, whatever the size).
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createManifestActivities, loadBatchItems } from '../src/activities/manifest.js';
import { type HumeEmulator, startHumeEmulator } from '../src/emulator/index.js';
import { HumeClient } from '../src/hume/client.js';
import { readJsonlPage } from '../src/manifest/index.js';
import { createStorage } from '../src/store/storage.js';
import type { BatchRange } from '../src/schemas/batch.js';
import { startThrottleProxy } from '../test/helpers/throttle-proxy.js';
import { runChild } from './child.js';
import type { BenchContext, Benchmark } from './context.js';
import { writeFilled } from '../test/helpers/big-files.js';
import { writeTextManifest } from './manifest.js';
import { mb, seconds } from './proc.js';
import type { PhaseFigures, ResultsJobs } from './results-child.js';
import { rowsOf, type Row } from './table.js';

/** Language predictions at word granularity, measured on the emulator: ~2.7 kB per word. */
const BYTES_PER_WORD = 2_700;
const CONFIG = { models: { language: { granularity: 'word' as const } } };
const wordsText = (words: number) => Array.from({ length: words }, (_, i) => `word${i % 997}`).join(' ');

export const transfer: Benchmark = async (ctx) => {
  const hume = await startHumeEmulator({ timing: { queuedMs: 0, processingMs: 0 } });
  try {
    return [...(await linkUse(ctx, hume)), ...(await memoryBySize(ctx, hume))];
  } finally {
    await hume.close();
  }
};

/** Starts a job on `texts` and waits until the server has its predictions. */
async function completedJob(client: HumeClient, texts: string[]): Promise<string> {
  const jobId = await client.startJob({ ...CONFIG, text: texts });
  while ((await client.getJob(jobId)).state.status !== 'COMPLETED') await sleep(100);
  return jobId;
}

async function linkUse(ctx: BenchContext, hume: HumeEmulator): Promise<Row[]> {
  const { bytesPerSecond, uploadBytes, predictionsBytes } = ctx.config.transferLink;
  const link = await startThrottleProxy({ target: hume.url, bytesPerSecond: { clientToServer: bytesPerSecond, serverToClient: bytesPerSecond } });
  try {
    const direct = new HumeClient({ apiKey: hume.apiKey, baseUrl: hume.url });
    const slow = new HumeClient({ apiKey: hume.apiKey, baseUrl: link.url });
    const files = [];
    for (let i = 0; i < 2; i++) files.push({ path: await writeFilled(join(ctx.workDir, `upload-${i}.wav`), uploadBytes / 2, i + 1) });
    ctx.log(`transfer: uploading ${mb(uploadBytes)} at ${mb(bytesPerSecond)}/s`);
    let started = performance.now();
    await slow.startJobWithFiles(files, { models: { prosody: {} } });
    const uploadMs = performance.now() - started;

    const jobId = await completedJob(direct, [wordsText(Math.round(predictionsBytes / BYTES_PER_WORD))]);
    ctx.log(`transfer: downloading predictions at ${mb(bytesPerSecond)}/s`);
    started = performance.now();
    const download = await slow.downloadPredictions(jobId, join(ctx.workDir, 'link-predictions.json'));
    const downloadMs = performance.now() - started;

    const share = (bytes: number, ms: number) => bytes / (ms / 1000) / bytesPerSecond;
    const row = rowsOf('6 transfer', `link of ${mb(bytesPerSecond)}/s`);
    const up = share(uploadBytes, uploadMs);
    const down = share(download.bytes, downloadMs);
    return [
      row(`upload ${mb(uploadBytes)}: share of the link`, `${(up * 100).toFixed(1)} % (${seconds(uploadMs)})`, '≥ 90 %', up >= 0.9),
      row(`download ${mb(download.bytes)}: share of the link`, `${(down * 100).toFixed(1)} % (${seconds(downloadMs)})`, '≥ 90 %', down >= 0.9),
    ];
  } finally {
    await link.close();
  }
}

async function memoryBySize(ctx: BenchContext, hume: HumeEmulator): Promise<Row[]> {
  const rows: Row[] = [];
  for (const size of ctx.config.transferSizes) {
    const words = Math.round(size / BYTES_PER_WORD);
    const runDir = join(ctx.workDir, `size-${size}`);
    const manifestPath = await writeTextManifest(join(ctx.workDir, `size-${size}.jsonl`), 1, () => wordsText(words));
    const plan = await createManifestActivities().humePlanManifest({ runDir, manifest: { path: manifestPath }, config: CONFIG });
    const [range] = await readJsonlPage<BatchRange>(createStorage().file(plan.planPath).lines(), 0, 1);
    if (!range) throw new Error('the transfer bench planned no batch');
    const items = await loadBatchItems(plan.manifest, range, { baseDir: dirname(manifestPath), config: CONFIG });
    const client = new HumeClient({ apiKey: hume.apiKey, baseUrl: hume.url });
    ctx.log(`transfer: a job of ~${mb(size)} of predictions`);
    const jobId = await completedJob(client, items.map((item) => item.value));

    const jobsPath = join(ctx.workDir, `size-${size}-jobs.json`);
    await writeFile(jobsPath, JSON.stringify({ baseUrl: hume.url, apiKey: hume.apiKey, runDir, plan, config: CONFIG, jobs: [{ range, jobId }] } satisfies ResultsJobs));
    const fetch = await runChild<PhaseFigures>('results-child', [jobsPath, 'stream']);
    const merge = await runChild<PhaseFigures>('results-child', [jobsPath, 'merge']);
    const row = rowsOf('6 transfer', `one job, ${mb(fetch.bytes)} of predictions`);
    rows.push(
      row('fetch: peak RSS (loaded), time', `${mb(fetch.peakRss)} (${mb(fetch.baseRss)}), ${seconds(fetch.ms)}`, '< 400 MB', fetch.peakRss < 400e6),
      row('finalize: peak RSS (loaded), time', `${mb(merge.peakRss)} (${mb(merge.baseRss)}), ${seconds(merge.ms)}`, '< 400 MB', merge.peakRss < 400e6),
    );
  }
  return rows;
}
