/**
 * Child process of benchmark 5: one phase of the worker's result activities on completed jobs,
 * in a process of its own so its peak RSS is the phase's alone:
 * - `stream`: each job's predictions streamed into the run folder (`humeFetchResults`, one job
 *   at a time);
 * - `merge`: the folder finalized (`humeFinalizeRun`: index.jsonl and the merged CSVs).
 * Usage: results-child.ts <jobs.json> stream|merge
 */
import { readFile, stat } from 'node:fs/promises';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../src/activities/index.js';
import { HumeClient } from '../src/hume/client.js';
import type { JobConfig, ModelName } from '../src/hume/schemas.js';
import { csvPath } from '../src/results/layout.js';
import type { BatchRange, PlanResult } from '../src/schemas/batch.js';
import { report } from './child.js';
import { selfCpuMs, vm } from './proc.js';

export interface ResultsJobs {
  baseUrl: string;
  apiKey: string;
  runDir: string;
  plan: PlanResult;
  config: JobConfig;
  jobs: Array<{ range: BatchRange; jobId: string }>;
}

export interface PhaseFigures {
  ms: number;
  cpuMs: number;
  /** RSS once loaded, before the phase. */
  baseRss: number;
  peakRss: number;
  /** Bytes the phase wrote: predictions.json files, or the CSVs. */
  bytes: number;
  /** CSV rows written (merge only). */
  rows: number;
}

const [jobsPath, phase] = process.argv.slice(2);
if (!jobsPath || (phase !== 'stream' && phase !== 'merge')) throw new Error('usage: results-child.ts <jobs.json> stream|merge');
const input = JSON.parse(await readFile(jobsPath, 'utf8')) as ResultsJobs;
const { runDir, plan, config } = input;
const activities = createActivities({ hume: new HumeClient({ apiKey: input.apiKey, baseUrl: input.baseUrl }) });
const env = new MockActivityEnvironment();
/** Runs `fn` inside an activity context (heartbeats, cancellation signal) without a server. */
const inActivity = <T>(fn: () => Promise<T>): Promise<T> => env.run(fn) as Promise<T>;

async function stream(): Promise<Pick<PhaseFigures, 'bytes' | 'rows'>> {
  let bytes = 0;
  for (const { range, jobId } of input.jobs) {
    const stored = await inActivity(() => activities.humeFetchResults({ jobId, batch: { runDir, manifest: plan.manifest, range }, config }));
    bytes += stored.predictionsBytes;
  }
  return { bytes, rows: 0 };
}

async function merge(): Promise<Pick<PhaseFigures, 'bytes' | 'rows'>> {
  const summary = await inActivity(() =>
    activities.humeFinalizeRun({
      runDir,
      runId: 'results',
      plan,
      run: { input: {}, startedAt: 0, finishedAt: 0, state: 'completed', humeJobsCreated: input.jobs.length, resubmissions: 0 },
      validation: { config },
    }),
  );
  const files = (Object.keys(summary.csv) as ModelName[]).map((model) => `${summary.paths.runDir}/${csvPath(model)}`);
  const sizes = await Promise.all(files.map((file) => stat(file)));
  return { bytes: sizes.reduce((n, s) => n + s.size, 0), rows: Object.values(summary.csv).reduce((n, rows) => n + (rows ?? 0), 0) };
}

const baseRss = vm('VmRSS');
const started = performance.now();
const cpu = selfCpuMs();
const written = await (phase === 'stream' ? stream() : merge());
report({ ms: performance.now() - started, cpuMs: selfCpuMs() - cpu, baseRss, peakRss: vm('VmHWM'), ...written } satisfies PhaseFigures);
