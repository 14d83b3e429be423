/**
 * The artifacts zip: one CSV per model under a single top-level folder named after the job
 * (`<job_id>/<model>.csv`). Hume never documented its layout; consumers should treat it as opaque.
 *
 * Built from the predictions file as a stream: one scan collects each model's rows into a
 * JSON-lines file on disk (and the union of their columns, which heads the CSV), then each CSV
 * is generated from those lines straight into the zip. Memory holds one prediction item at a time.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';
import { MODEL_NAMES } from '../hume/schemas.js';
import { JsonOut } from './json-out.js';
import { predictionItems } from './prediction-items.js';

type Row = Record<string, string | number>;
interface RowFile { path: string; stream: WriteStream; out: JsonOut; columns: Set<string> }

export async function writeArtifactsZip(jobId: string, predictionsPath: string, destPath: string): Promise<{ bytes: number }> {
  const work = `${destPath}.${randomUUID()}`;
  const files = new Map<string, RowFile>();
  try {
    for await (const { source, file, model, id, item } of predictionItems(predictionsPath)) {
      const row = { source, file, id, ...flatten(item) };
      let f = files.get(model);
      if (!f) {
        const stream = createWriteStream(`${work}.${model}.jsonl`);
        f = { path: `${work}.${model}.jsonl`, stream, out: new JsonOut(stream), columns: new Set() };
        files.set(model, f);
      }
      for (const key of Object.keys(row)) f.columns.add(key);
      await f.out.write(`${JSON.stringify(row)}\n`);
    }
    for (const f of files.values()) {
      await f.out.flush();
      f.stream.end();
      await finished(f.stream);
    }
    const zip = new ZipFile();
    for (const model of MODEL_NAMES) {
      const f = files.get(model);
      if (f) zip.addReadStream(Readable.from(csvLines(f.path, [...f.columns])), `${jobId}/${model}.csv`);
    }
    zip.end();
    await pipeline(zip.outputStream, createWriteStream(`${work}.zip`));
    await rename(`${work}.zip`, destPath);
    return { bytes: (await stat(destPath)).size };
  } finally {
    for (const f of files.values()) f.stream.destroy();
    await Promise.all([...files.values()].map((f) => rm(f.path, { force: true })));
    await rm(`${work}.zip`, { force: true });
  }
}

/**
 * One column per scalar; intervals and boxes as `key.field`; score lists as one column per name
 * (emotions bare, others prefixed: `sentiment.1`, `descriptions.Ah`).
 */
function flatten(item: Record<string, unknown>, prefix = ''): Row {
  const out: Row = {};
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

const cell = (v: string | number | undefined): string =>
  v === undefined ? '' : typeof v === 'number' ? String(v) : /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;

async function* csvLines(rowsPath: string, columns: string[]): AsyncGenerator<string> {
  yield `${columns.map(cell).join(',')}\n`;
  for await (const line of createInterface({ input: createReadStream(rowsPath), crlfDelay: Infinity })) {
    if (!line) continue;
    const row = JSON.parse(line) as Row;
    yield `${columns.map((c) => cell(row[c])).join(',')}\n`;
  }
}
