/**
 * One-line summaries the Temporal UI and CLI show next to ids: what a child or an activity is
 * doing, in words an operator scanning a list can act on. Plain strings, built deterministically.
 */
import type { BatchRange } from './definitions.js';

/** `12345` → `12,345`; written out because a sandbox's locale data is not ours to rely on. */
export const thousands = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

const plural = (n: number, one: string, many = `${one}s`): string => `${thousands(n)} ${n === 1 ? one : many}`;

/** `batch 12 · lines 1,201–1,300 · 100 items` (a redrive's range names how many lines it re-runs). */
export function batchSummary(range: Pick<BatchRange, 'index' | 'fromLine' | 'toLine' | 'items' | 'lines'>): string {
  const lines = range.fromLine === range.toLine ? `line ${thousands(range.fromLine)}` : `lines ${thousands(range.fromLine)}–${thousands(range.toLine)}`;
  const redriven = range.lines ? ` (${plural(range.lines.length, 'line')} redriven)` : '';
  return `batch ${range.index} · ${lines}${redriven} · ${plural(range.items, 'item')}`;
}

export const SUMMARIES = {
  plan: 'plan manifest',
  planRedrive: 'plan redrive of failed and not-run items',
  readPlan: (from: number) => `read plan from batch ${thousands(from)}`,
  settle: (batches: number) => `look up ${plural(batches, 'batch', 'batches')} in Temporal`,
  finalize: (state: string) => `finalize results · run ${state}`,
  submit: (batch: number | undefined, items: number | undefined, attempt: number) =>
    `submit ${batch === undefined ? 'job' : `batch ${batch}`}${items === undefined ? '' : ` · ${plural(items, 'item')}`}${attempt > 1 ? ` · attempt ${attempt}` : ''}`,
  check: (jobId: string) => `check Hume job ${jobId}`,
  fetch: (jobId: string) => `fetch predictions of Hume job ${jobId}`,
  recordFailure: (batch: number) => `record failure of batch ${batch}`,
} as const;
