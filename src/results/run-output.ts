/**
 * The files finalize writes row by row, `index.jsonl` and `csv/<model>.csv`, as resumable writers:
 * `save` returns how far each has got (for the checkpoint) and a later attempt opens them again at
 * those lengths. A model's file opens (header first) when its first rows arrive; its header is
 * then fixed for the run, and every later job's rows must be laid out under the same one.
 */
import { StringDecoder } from 'node:string_decoder';
import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';
import { MODEL_NAMES, type ModelName } from '../hume/schemas.js';
import type { ResultStore, ResumableWriter } from '../store/store.js';
import { ModelTable, type TableSpec } from './columns.js';
import { csvPath, INDEX_JSONL } from './layout.js';

const count = z.number().int().min(0);

/** What `save` returns and `open` resumes from. */
export const SavedOutput = z.object({
  index: count,
  csv: z.partialRecord(z.enum(MODEL_NAMES), z.object({ bytes: count, rows: count, spec: z.record(z.string(), z.array(z.string())) })),
});
export type SavedOutput = z.infer<typeof SavedOutput>;

interface OpenCsv {
  spec: TableSpec;
  writer: ResumableWriter;
  rows: number;
}

const NEWLINE = 10;
const QUOTE = 34;

/** A shard's rows `[start, end)` (bytes) holding `rows` rows, and what ends each of them. */
export interface RowSpan {
  range: readonly [start: number, end: number, rows: number];
  rowEnd: string;
}

/** The spans in runs of neighbours, each starting where the one before it ended. */
function adjacentRuns(spans: readonly RowSpan[]): RowSpan[][] {
  const runs: RowSpan[][] = [];
  for (const span of spans) {
    if (span.range[1] <= span.range[0]) continue;
    const last = runs.at(-1);
    if (last && last.at(-1)!.range[1] === span.range[0]) last.push(span);
    else runs.push([span]);
  }
  return runs;
}

export class RunOutput {
  readonly #store: ResultStore;
  readonly #metaColumns: readonly string[];
  readonly #index: ResumableWriter;
  readonly #csv = new Map<ModelName, OpenCsv>();
  /** Shard rows copied by this attempt (a resumed one copies only what its checkpoint lacked). */
  rowsCopied = 0;

  private constructor(store: ResultStore, metaColumns: readonly string[], index: ResumableWriter) {
    this.#store = store;
    this.#metaColumns = metaColumns;
    this.#index = index;
  }

  /** From the start, or (with `saved`) where a previous attempt saved; fails when that cannot be resumed. */
  static async open(store: ResultStore, metaColumns: readonly string[], saved?: SavedOutput): Promise<RunOutput> {
    const out = new RunOutput(store, metaColumns, await store.createResumableWriter(INDEX_JSONL, saved?.index));
    try {
      for (const model of MODEL_NAMES) {
        const csv = saved?.csv[model];
        if (csv) out.#csv.set(model, { spec: csv.spec, rows: csv.rows, writer: await store.createResumableWriter(csvPath(model), csv.bytes) });
      }
    } catch (e) {
      await out.close();
      throw e;
    }
    return out;
  }

  /** The header a model's rows must be laid out under, once its file is open. */
  specOf(model: ModelName): TableSpec | undefined {
    return this.#csv.get(model)?.spec;
  }

  async writeIndexLine(line: string): Promise<void> {
    await this.#index.write(`${line}\n`);
  }

  /**
   * Copies rows of a shard's `rows/<model>.csv` (laid out under `spec`): each span's bytes
   * `[start, end)`, every row ended with the span's `rowEnd` (its item's meta cells) before its
   * newline. Spans that follow each other in the file are read in one pass: a job's items one
   * read each would open the file (or send a ranged GET) a hundred times for a hundred texts.
   */
  async copyRows(model: ModelName, spec: TableSpec, shardPath: string, spans: readonly RowSpan[]): Promise<void> {
    const csv = this.#csv.get(model) ?? (await this.#openCsv(model, spec));
    // Rows laid out under another header would land in the wrong columns.
    if (JSON.stringify(csv.spec) !== JSON.stringify(spec)) throw new Error(`${shardPath}: rows laid out under another ${model} header than the run's`);
    for (const run of adjacentRuns(spans)) await this.#copyRun(csv.writer, shardPath, run);
    const rows = spans.reduce((sum, span) => sum + span.range[2], 0);
    csv.rows += rows;
    this.rowsCopied += rows;
  }

  async #copyRun(writer: ResumableWriter, shardPath: string, run: readonly RowSpan[]): Promise<void> {
    const start = run[0]!.range[0];
    let at = start;
    let span = 0;
    const decoder = new StringDecoder('utf8');
    let inQuotes = false;
    const asIs = run.every((span) => span.rowEnd === '');
    for await (const chunk of this.#store.readBytes(shardPath, start, run.at(-1)!.range[1])) {
      if (asIs) {
        await writer.write(decoder.write(chunk));
        continue;
      }
      // Bytes, not text: a quote or a newline never occurs inside a multi-byte UTF-8 character.
      const parts: string[] = [];
      let from = 0;
      for (let i = 0; i < chunk.length; i++) {
        const c = chunk[i];
        if (c === QUOTE) inQuotes = !inQuotes;
        // A newline ends a row only outside quotes: a quoted cell (a text) may hold newlines.
        else if (c === NEWLINE && !inQuotes) {
          while (at + i >= run[span]!.range[1]) span++;
          parts.push(decoder.write(chunk.subarray(from, i)), run[span]!.rowEnd, '\n');
          from = i + 1;
        }
      }
      parts.push(decoder.write(chunk.subarray(from)));
      at += chunk.length;
      await writer.write(parts.join(''));
    }
    const rest = decoder.end();
    if (rest) await writer.write(rest);
  }

  async save(): Promise<SavedOutput> {
    const csv: SavedOutput['csv'] = {};
    for (const [model, open] of this.#csv) csv[model] = { bytes: await open.writer.save(), rows: open.rows, spec: open.spec as Record<string, string[]> };
    return { index: await this.#index.save(), csv };
  }

  /** Puts every file in place; returns rows per model, in the contract's model order. */
  async commit(): Promise<Partial<Record<ModelName, number>>> {
    const rows: Partial<Record<ModelName, number>> = {};
    for (const model of MODEL_NAMES) {
      const csv = this.#csv.get(model);
      if (!csv) continue;
      await csv.writer.commit();
      rows[model] = csv.rows;
    }
    await this.#index.commit();
    return rows;
  }

  /** Stops an attempt that failed, keeping the files as far as they were saved for the next one. */
  async close(): Promise<void> {
    await Promise.all([this.#index.close(), ...[...this.#csv.values()].map((csv) => csv.writer.close())]);
  }

  async #openCsv(model: ModelName, spec: TableSpec): Promise<OpenCsv> {
    const writer = await this.#store.createResumableWriter(csvPath(model));
    await writer.write(stringify([new ModelTable(model, spec, this.#metaColumns).header]));
    const csv = { spec, writer, rows: 0 };
    this.#csv.set(model, csv);
    return csv;
  }
}
