/**
 * Benchmark 1: the same batch through a hand-written SDK script and through temporal-hume, one
 * after the other, on Hume-compatible servers with the same seed (so both see the same sequence
 * of job latencies). Figures: makespan and HTTP requests to the Hume server, ours / script.
 */
import { join } from 'node:path';
import type { BenchContext, Benchmark } from './context.js';
import { historyRows, runPhases } from './history.js';
import { type BenchHume, type BenchHumeOptions, startBenchHume } from './hume-server.js';
import { writeTextManifest, reviewText } from './manifest.js';
import { seconds } from './proc.js';
import { runScript } from './script.js';
import { type Row, rowsOf } from './table.js';
import { type BenchTemporal, requestRate } from './temporal.js';

/** Our default maxJobsInFlight; the script gets the same concurrency. */
const CONCURRENCY = 100;
const SEED = 7;
const MODELS = { language: { granularity: 'sentence' as const } };
/** Issue 15's targets (makespan moonshot 1.02x, requests per job 2). */
const TARGET_MAKESPAN = 1.1;
const TARGET_REQUESTS_PER_JOB = 2;

export const versusScript: Benchmark = async (ctx) => {
  const temporal = await ctx.temporal();
  // Both sides once on a one-job batch, so neither pays JIT and first-connection costs in the figures.
  await compare(ctx, temporal, 100, { queuedMs: 0, processingMs: 0 }, 'warm-up');
  const rows: Row[] = [];
  for (const texts of ctx.config.versusTexts) {
    const timing = { queuedMs: 0, processingMs: ctx.config.jobLatencyMs };
    const { script, ours } = await compare(ctx, temporal, texts, timing, `${texts}`);
    const jobs = ours.result.summary.jobs.completed;
    const name = `${texts.toLocaleString('en')} texts (${jobs} jobs)`;
    const makespan = ours.makespanMs / script.makespanMs;
    // Finalize (index, merged CSVs, summary) is work the script does not do: shown apart.
    const { planMs, finalizeMs } = await runPhases(temporal.client, ours.workflowId);
    const orchestration = (ours.makespanMs - finalizeMs) / script.makespanMs;
    const perJob = ours.requests / jobs;
    const row = rowsOf('1 vs script', name);
    rows.push(
      row('makespan script / ours', `${seconds(script.makespanMs)} / ${seconds(ours.makespanMs)}`),
      row('makespan ratio ours/script', `${makespan.toFixed(3)}x`, `<= ${TARGET_MAKESPAN}x`, makespan <= TARGET_MAKESPAN),
      row('ours: plan / finalize (inside the makespan)', `${seconds(planMs)} / ${seconds(finalizeMs)}`),
      row('makespan ratio without finalize', `${orchestration.toFixed(3)}x`, `<= ${TARGET_MAKESPAN}x`, orchestration <= TARGET_MAKESPAN),
      row('Hume requests script / ours', `${script.requests} / ${ours.requests}`),
      row('Hume requests per job ours', perJob.toFixed(2), `<= ${TARGET_REQUESTS_PER_JOB}`, perJob <= TARGET_REQUESTS_PER_JOB),
      row('Hume requests/s ours: mean / busiest second', requestRate(ours)),
    );
    if (texts === Math.max(...ctx.config.versusTexts)) rows.push(...(await historyRows(temporal.client, ours.workflowId, jobs, name)));
  }
  return rows;
};

async function compare(ctx: BenchContext, temporal: BenchTemporal, texts: number, timing: BenchHumeOptions['timing'], label: string) {
  const dir = join(ctx.workDir, `versus-${label}`);
  const manifestPath = await writeTextManifest(join(ctx.workDir, `versus-${label}.jsonl`), texts, reviewText);
  const options: BenchHumeOptions = { seed: SEED, timing };

  ctx.log(`versus ${label}: script`);
  const script = await onEmulator(options, async (hume) => ({
    makespanMs: await runScript({
      baseUrl: hume.url, apiKey: hume.apiKey, manifestPath, outDir: join(dir, 'script'), concurrency: CONCURRENCY, models: MODELS,
    }),
  }));
  ctx.log(`versus ${label}: temporal-hume`);
  const ours = await onEmulator(options, (hume) => temporal.run(hume, {
    runId: `versus-${label}-${Date.now().toString(36)}`,
    manifest: { path: manifestPath },
    outDir: join(dir, 'ours'),
    config: { models: MODELS },
    maxJobsInFlight: CONCURRENCY,
  }));
  return { script, ours };
}

/** One fresh server per side (same seed, so the same job latencies in creation order), closed after. */
async function onEmulator<T>(options: BenchHumeOptions, fn: (hume: BenchHume) => Promise<T>): Promise<T & { requests: number }> {
  const hume = await startBenchHume(options);
  try {
    const side = await fn(hume);
    return { ...side, requests: await hume.requests() };
  } finally {
    await hume.close();
  }
}
