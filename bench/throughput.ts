/**
 * Benchmark 2: orchestration alone. Zero-latency, one-text jobs end to end on the local dev
 * server, with the worker and the webhook receiver in this process and the Hume-compatible server
 * in one of its own (its CPU apart: the target is the worker's and the dev server's); also the
 * history those jobs leave (benchmark 4).
 */
import { join } from 'node:path';
import type { Benchmark } from './context.js';
import { historyRows, runPhases } from './history.js';
import { startBenchHume } from './hume-server.js';
import { reviewText, writeTextManifest } from './manifest.js';
import { rowsOf } from './table.js';
import { requestRate } from './temporal.js';
import { cpuMsOf, mb, resetPeakRss, seconds, selfCpuMs, vm } from './proc.js';

/** Issue 15's targets (moonshots 50 jobs/s, 35 ms). */
const TARGET_JOBS_PER_SECOND = 40;
const TARGET_CPU_MS_PER_JOB = 45;

export const throughput: Benchmark = async (ctx) => {
  const temporal = await ctx.temporal();
  const jobs = ctx.config.throughputJobs;
  const manifestPath = await writeTextManifest(join(ctx.workDir, 'throughput.jsonl'), jobs, reviewText);
  const hume = await startBenchHume({ timing: { queuedMs: 0, processingMs: 0 } });
  ctx.log(`throughput: ${jobs} jobs`);
  resetPeakRss();
  const cpuBefore = selfCpuMs();
  const serverCpuBefore = cpuMsOf(temporal.server.pid);
  const humeCpuBefore = hume.cpuMs();
  let humeCpuMs = 0;
  const run = await temporal
    .run(hume, {
      runId: `throughput-${Date.now().toString(36)}`,
      manifest: { path: manifestPath },
      outDir: join(ctx.workDir, 'throughput'),
      config: { models: { language: { granularity: 'sentence' } } },
      limits: { maxTextsPerJob: 1 },
    })
    .finally(() => {
      humeCpuMs = hume.cpuMs() - humeCpuBefore;
      return hume.close();
    });
  const cpuMs = selfCpuMs() - cpuBefore;
  const serverCpuMs = cpuMsOf(temporal.server.pid) - serverCpuBefore;
  const peakRss = vm('VmHWM');
  const perSecond = jobs / (run.makespanMs / 1000);
  // Planning and finalize (index, merged CSVs) are per-item work inside the makespan; without them, the orchestration's rate.
  const { planMs, finalizeMs } = await runPhases(temporal.client, run.workflowId);
  const orchestrated = jobs / ((run.makespanMs - planMs - finalizeMs) / 1000);
  const perJobCpu = (cpuMs + serverCpuMs) / jobs;
  const name = `${jobs.toLocaleString('en')} zero-latency jobs`;
  const row = rowsOf('2 throughput', name);
  return [
    row('makespan', seconds(run.makespanMs)),
    row('jobs completed per second', perSecond.toFixed(1), `>= ${TARGET_JOBS_PER_SECOND}`, perSecond >= TARGET_JOBS_PER_SECOND),
    row('plan / finalize (inside the makespan)', `${seconds(planMs)} / ${seconds(finalizeMs)}`),
    row('jobs per second without plan and finalize', orchestrated.toFixed(1)),
    row('Hume requests/s: mean / busiest second', requestRate(run)),
    row('bench process CPU (worker+receiver)', `${seconds(cpuMs)} (${cores(cpuMs, run.makespanMs)} cores)`),
    row('bench process peak RSS', mb(peakRss)),
    row('Temporal dev server CPU', `${seconds(serverCpuMs)} (${cores(serverCpuMs, run.makespanMs)} cores)`),
    row('Hume-compatible server CPU (not counted)', `${seconds(humeCpuMs)} (${cores(humeCpuMs, run.makespanMs)} cores)`),
    row('CPU per job, worker + dev server', `${perJobCpu.toFixed(0)} ms`, `<= ${TARGET_CPU_MS_PER_JOB} ms`, perJobCpu <= TARGET_CPU_MS_PER_JOB),
    ...(await historyRows(temporal.client, run.workflowId, jobs, name)),
  ];
};

const cores = (cpuMs: number, wallMs: number): string => (cpuMs / wallMs).toFixed(2);
