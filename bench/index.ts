/**
 * `npm run bench [-- --quick] [--json] [--only versus,throughput,plan,results,transfer,face,million]`: what running a
 * batch through temporal-hume costs against a plain SDK script, on this machine. Progress goes to
 * stderr; the machine, the date and one table of figures to stdout.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FULL, QUICK } from './config.js';
import type { BenchContext, Benchmark } from './context.js';
import { faceApi } from './face-api.js';
import { million } from './million.js';
import { planScale } from './plan-scale.js';
import { results } from './results.js';
import { formatTable, type Row } from './table.js';
import { type BenchTemporal, startBenchTemporal } from './temporal.js';
import { throughput } from './throughput.js';
import { transfer } from './transfer.js';
import { versusScript } from './versus-script.js';

/** In the order; history (4) is measured on the runs of 1 and 2. */
const BENCHMARKS: Record<string, Benchmark> = { versus: versusScript, throughput, plan: planScale, results, transfer, face: faceApi, million };

async function run(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, json: { type: 'boolean', default: false }, only: { type: 'string' } },
  });
  const names = values.only ? values.only.split(',') : Object.keys(BENCHMARKS);
  const unknown = names.filter((name) => !(name in BENCHMARKS));
  if (unknown.length) throw new Error(`unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(BENCHMARKS).join(', ')}`);

  const workDir = await mkdtemp(join(tmpdir(), 'temporal-hume-bench-'));
  let temporal: Promise<BenchTemporal> | undefined;
  const ctx: BenchContext = {
    config: values.quick ? QUICK : FULL,
    workDir,
    temporal: () => (temporal ??= startBenchTemporal()),
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
  if (values.json) process.stdout.write(`${JSON.stringify({ machine, when, quick: values.quick, rows }, null, 2)}\n`);
  else process.stdout.write(`temporal-hume bench${values.quick ? ' --quick' : ''}: ${machine}, ${when}\n\n${formatTable(rows)}\n`);
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
