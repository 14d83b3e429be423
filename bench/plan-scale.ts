/**
 * Benchmark 3: planning manifests of growing size, each in a child process so its peak RSS is
 * the planner's alone; RSS should stay flat as the manifest grows.
 */
import { join } from 'node:path';
import type { Benchmark } from './context.js';
import { runChild } from './child.js';
import { reviewText, writeTextManifest } from './manifest.js';
import type { PlanFigures } from './plan-child.js';
import { mb, seconds } from './proc.js';
import { type Row, rowsOf } from './table.js';

const TARGET_MS = 60_000;
// The target at 1 M explicit ids, and flat to 2 M.
const TARGET_RSS = 160e6;

export const planScale: Benchmark = async (ctx) => {
  const rows: Row[] = [];
  for (const lines of ctx.config.planLines) {
    const manifest = await writeTextManifest(join(ctx.workDir, `plan-${lines}.jsonl`), lines, reviewText);
    ctx.log(`plan: ${lines} lines`);
    const f = await runChild<PlanFigures>('plan-child', [manifest, join(ctx.workDir, `plan-${lines}`)]);
    const name = `${lines.toLocaleString('en')}-line manifest (${f.batches} jobs)`;
    const row = rowsOf('3 plan', name);
    rows.push(
      row('planning time', seconds(f.ms), `< ${seconds(TARGET_MS)}`, f.ms < TARGET_MS),
      row('peak RSS (loaded before planning)', `${mb(f.peakRss)} (${mb(f.baseRss)})`, `<= ${mb(TARGET_RSS)}`, f.peakRss <= TARGET_RSS),
    );
  }
  return rows;
};
