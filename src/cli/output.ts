/** What commands print: aligned `key  value` rows, a table, or one JSON document on stdout, and a run's results as rows. */
import type { HumeBatchResult } from '../workflows/definitions.js';

export type Row = [key: string, value: string];

export function printRows(rows: Row[], stdout: NodeJS.WritableStream = process.stdout): void {
  const width = Math.max(...rows.map(([key]) => key.length));
  stdout.write(`${rows.map(([key, value]) => `${key.padEnd(width)}  ${value}`).join('\n')}\n`);
}

/** Columns under a header, each as wide as its widest cell (the last one unpadded). */
export function printTable(header: string[], rows: string[][], stdout: NodeJS.WritableStream = process.stdout): void {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ');
  stdout.write(`${all.map(line).join('\n')}\n`);
}

export function printJson(value: unknown, stdout: NodeJS.WritableStream = process.stdout): void {
  stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Where a finished run's results are and what they hold: the folder, counts, and each CSV with its rows. */
export function resultRows(result: HumeBatchResult): Row[] {
  const { summary } = result;
  const { items, jobs } = summary;
  return [
    ['run', result.runId],
    ['state', result.state],
    ['folder', result.runDir],
    ['items', `${items.completed} completed, ${items.failed} failed, ${items.invalid} invalid, ${items.notRun} not run`],
    ['Hume jobs', `${jobs.completed} completed, ${jobs.failed} failed`],
    ['prediction errors', String(summary.predictionErrors)],
    ...Object.entries(summary.csv).map(([model, rows]): Row => [`csv/${model}.csv`, `${rows} rows`]),
    ['summary', summary.paths.summary],
    ['index', summary.paths.index],
  ];
}
