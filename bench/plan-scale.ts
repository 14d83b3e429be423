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
/**
 * V8's young generation grows to its default ceiling (16 MB semi-spaces) over any long run of
 * allocations, ids or not; capped, what is left is the planner's own memory (README, "Memory of
 * a worker").
 */
const CAPPED = ['--max-semi-space-size=2'];

export const planScale: Benchmark = async (ctx) => {
  const rows: Row[] = [];
  for (const lines of ctx.config.planLines) {
    const manifest = await writeTextManifest(join(ctx.workDir, `plan-${lines}.jsonl`), lines, reviewText);
    ctx.log(`plan: ${lines} lines`);
    const f = await runChild<PlanFigures>('plan-child', [manifest, join(ctx.workDir, `plan-${lines}`)]);
    const capped = await runChild<PlanFigures>('plan-child', [manifest, join(ctx.workDir, `plan-${lines}-capped`)], CAPPED);
    const name = `${lines.toLocaleString('en')}-line manifest (${f.batches} jobs)`;
    const row = rowsOf('3 plan', name);
    const rss = (figures: PlanFigures) => `${mb(figures.peakRss)} (${mb(figures.baseRss)})`;
    rows.push(
      row('planning time', seconds(f.ms), `< ${seconds(TARGET_MS)}`, f.ms < TARGET_MS),
      row('peak RSS (loaded before planning)', rss(f), `<= ${mb(TARGET_RSS)}`, f.peakRss <= TARGET_RSS),
      row(`the same, ${CAPPED.join(' ')}`, rss(capped), `<= ${mb(TARGET_RSS)}`, capped.peakRss <= TARGET_RSS),
    );
  }
  return rows;
};
