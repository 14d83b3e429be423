/**
 * `npm run bench [-- --quick] [--json] [--only versus,throughput,plan,results,transfer,face,million]
 * [--worker-options '{"workflowThreadPoolSize":2}']`: what running a batch through temporal-hume
 * costs against a plain SDK script, on this machine (the worker tuned as given, to weigh a
 * setting). Progress goes to stderr; the machine, the date and one table of figures to stdout.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { FULL, QUICK } from './config.js';
import type { BenchContext, Benchmark } from './context.js';
import { faceApi } from './face-api.js';
import { million } from './million.js';
import { planScale } from './plan-scale.js';
import { results } from './results.js';
import { formatTable, type Row } from './table.js';
import { type BenchTemporal, type BenchWorkerOptions, startBenchTemporal } from './temporal.js';
import { throughput } from './throughput.js';
import { transfer } from './transfer.js';
import { versusScript } from './versus-script.js';

/** In the order; history (4) is measured on the runs of 1 and 2. */
const BENCHMARKS: Record<string, Benchmark> = { versus: versusScript, throughput, plan: planScale, results, transfer, face: faceApi, million };

async function run(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      only: { type: 'string' },
      'worker-options': { type: 'string' },
    },
  });
  const workerOptions = parseWorkerOptions(values['worker-options']);
  const names = values.only ? values.only.split(',') : Object.keys(BENCHMARKS);
  const unknown = names.filter((name) => !(name in BENCHMARKS));
  if (unknown.length) throw new Error(`unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(BENCHMARKS).join(', ')}`);

  const workDir = await mkdtemp(join(tmpdir(), 'temporal-hume-bench-'));
  let temporal: Promise<BenchTemporal> | undefined;
  const ctx: BenchContext = {
    config: values.quick ? QUICK : FULL,
    workDir,
    temporal: () => (temporal ??= startBenchTemporal(workerOptions)),
    log: (message) => process.stderr.write(`[bench] ${message}\n`),
  };
  const rows: Row[] = [];
  try {
    for (const name of names) rows.push(...(await (BENCHMARKS[name] as Benchmark)(ctx)));
  } finally {
    await (await temporal)?.close();
    await rm(workDir, { recursive: true, force: true });
  }
  const machine = `${cpus().length} cores (${cpus()[0]?.model.trim()}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  const when = new Date().toISOString();
  const tuned = Object.keys(workerOptions).length ? `, worker options ${JSON.stringify(workerOptions)}` : '';
  if (values.json) process.stdout.write(`${JSON.stringify({ machine, when, quick: values.quick, workerOptions, rows }, null, 2)}\n`);
  else process.stdout.write(`temporal-hume bench${values.quick ? ' --quick' : ''}: ${machine}, ${when}${tuned}\n\n${formatTable(rows)}\n`);
}

/** `--worker-options`: a JSON object of the SDK's Worker options (numbers, strings, booleans), merged over the bench's. */
function parseWorkerOptions(json: string | undefined): BenchWorkerOptions {
  if (json === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new Error(`--worker-options: not JSON: ${(err as Error).message}`);
  }
  const result = z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).safeParse(parsed);
  if (!result.success) throw new Error(`--worker-options: a JSON object of Worker options with plain values, like '{"workflowThreadPoolSize":2}'`);
  return result.data as BenchWorkerOptions;
}

// Exit explicitly: the SDK's awaitCompletion() leaves its timeout timer armed after the job
// finishes, which would keep the process alive for the script's whole timeout.
run().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
