/**
 * The artifacts zip: one CSV per model under a single top-level folder named after the job
 * (`<job_id>/<model>.csv`). Hume never documented its layout; consumers should treat it as opaque.
 */
import type { Readable } from 'node:stream';
import { ZipFile } from 'yazl';
import { MODEL_NAMES } from '../hume/schemas.js';
import type { SourceResult } from './predictions.js';

export function artifactsZip(jobId: string, results: SourceResult[]): Readable {
  const zip = new ZipFile();
  for (const model of MODEL_NAMES) {
    const rows: Record<string, string | number>[] = [];
    for (const result of results) {
      const source = 'url' in result.source ? result.source.url : 'filename' in result.source ? result.source.filename : 'text';
      for (const prediction of result.results?.predictions ?? []) {
        for (const group of prediction.models[model]?.grouped_predictions ?? []) {
          for (const item of group.predictions) {
            rows.push({ source, file: prediction.file, id: group.id, ...flatten(item) });
          }
        }
      }
    }
    if (rows.length > 0) zip.addBuffer(Buffer.from(toCsv(rows)), `${jobId}/${model}.csv`);
  }
  zip.end();
  return zip.outputStream as Readable;
}

/**
 * One column per scalar; intervals and boxes as `key.field`; score lists as one column per name
 * (emotions bare, others prefixed: `sentiment.1`, `descriptions.Ah`).
 */
function flatten(item: Record<string, unknown>, prefix = ''): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(item)) {
    if (value === null || value === undefined) continue;
    if (Array.isArray(value)) {
      for (const s of value as { name: string; score: number }[]) out[key === 'emotions' ? s.name : `${key}.${s.name}`] = s.score;
    } else if (typeof value === 'object') {
      Object.assign(out, flatten(value as Record<string, unknown>, `${prefix}${key}.`));
    } else {
      out[`${prefix}${key}`] = value as string | number;
    }
  }
  return out;
}

function toCsv(rows: Record<string, string | number>[]): string {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: string | number | undefined): string =>
    v === undefined ? '' : typeof v === 'number' ? String(v) : /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
  return [columns.map(cell), ...rows.map((r) => columns.map((c) => cell(r[c])))].map((line) => line.join(',')).join('\n') + '\n';
}
