/**
 * A completed job's rows, written once when its predictions are fetched, so finalize copies bytes
 * instead of parsing predictions again. In the job's folder:
 *   - `rows/<model>.csv`: the job's CSV rows for that model without the `meta.<key>` cells (the
 *     run's meta columns are known only at finalize), sources in Hume's order, each source's
 *     rows one byte range;
 *   - `shard.json`, written last: the header each model's rows were laid out under, each source's
 *     item (by manifest line), byte ranges and file counts, and the job's counts.
 * Finalize reads the ranges in manifest line order and appends each item's meta cells. Everything
 * here derives from predictions.json and the batch's items, so a re-fetch writes the same bytes.
 */
import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';
import {
  BurstPrediction, FacemeshPrediction, FacePrediction, LanguagePrediction, MODEL_NAMES, type ModelName, NerPrediction, ProsodyPrediction,
  type Source,
} from '../hume/schemas.js';
import type { ItemRecord } from '../schemas/batch.js';
import { PredictionCounts } from '../schemas/humeJob.js';
import type { StoredFile } from '../store/storage.js';
import type { AtomicWriter, ResultStore } from '../store/store.js';
import { type Cell, ModelTable, type PredictionOf, type RowKey, type TableSpec } from './columns.js';
import { SHARD_JSON, shardRowsPath } from './layout.js';
import { sourceInnerPath } from './mapping.js';
import { parsePart, streamPredictions, type SourceEnd } from './prediction-stream.js';
import { parseRecord } from './records.js';

const PREDICTION_SCHEMAS: Record<ModelName, z.ZodType> = {
  face: FacePrediction, burst: BurstPrediction, prosody: ProsodyPrediction, language: LanguagePrediction, ner: NerPrediction, facemesh: FacemeshPrediction,
};

const count = z.number().int().min(0);
/** Where a source's rows of one model are in `rows/<model>.csv`: bytes [start, end) and how many rows. */
const RowRange = z.tuple([count, count, count]);

export const ShardSource = z.object({
  index: count,
  /** The manifest line of the item that claimed the source; absent for a source no item claimed. */
  line: count.optional(),
  /** For an archive: the files Hume reported in it (predicted or failed), and those with predictions. */
  files: count.optional(),
  predictedFiles: count.optional(),
  /** Hume's per-file errors in the source. */
  errors: count,
  rows: z.partialRecord(z.enum(MODEL_NAMES), RowRange),
});
export type ShardSource = z.infer<typeof ShardSource>;

export const ShardRecord = z.object({
  jobId: z.string(),
  specs: z.partialRecord(z.enum(MODEL_NAMES), z.record(z.string(), z.array(z.string()))),
  sources: z.array(ShardSource),
  counts: PredictionCounts,
});
export type ShardRecord = z.infer<typeof ShardRecord>;

export interface WriteShardsOptions {
  jobId: string;
  /** The item a source belongs to, asked once per source in Hume's order. */
  claim(index: number, source: Source): ItemRecord | undefined;
  /** Lay rows out under these headers (finalize's, when it rebuilds a job's rows); else each model's first prediction decides. */
  specs?: ShardRecord['specs'];
  /** Called as each source ends. */
  onSourceEnd?(end: SourceEnd, item: ItemRecord | undefined): void;
  signal?: AbortSignal;
}

/** Streams the predictions once into the job folder's shards; returns what shard.json holds. */
export async function writeShards(store: ResultStore, jobFolder: string, predictions: StoredFile, options: WriteShardsOptions): Promise<ShardRecord> {
  const writer = new ShardWriter(store, jobFolder, options);
  try {
    await streamPredictions(predictions, writer, options.signal);
    return await writer.commit();
  } catch (e) {
    await writer.abort();
    throw e;
  }
}

/** Only the counts of a predictions file (a job outside any batch has no rows to shard). */
export async function countPredictions(predictions: StoredFile, signal?: AbortSignal): Promise<PredictionCounts> {
  const counts = emptyCounts();
  await streamPredictions(predictions, {
    source() {},
    file() {},
    prediction() {
      counts.predictions++;
    },
    fileError() {},
    sourceEnd: (end) => addSource(counts, end),
  }, signal);
  return counts;
}

export async function readShard(store: ResultStore, jobFolder: string): Promise<ShardRecord | undefined> {
  const path = `${jobFolder}/${SHARD_JSON}`;
  const raw = await store.readJson(path);
  return raw === undefined ? undefined : parseRecord(ShardRecord, raw, store.resolve(path));
}

const emptyCounts = (): PredictionCounts => ({ sources: 0, sourcesWithPredictions: 0, sourcesFailed: 0, predictions: 0, predictionErrors: 0 });

function addSource(counts: PredictionCounts, end: SourceEnd): void {
  counts.sources++;
  if (end.files > 0) counts.sourcesWithPredictions++;
  if (end.error) counts.sourcesFailed++;
  counts.predictionErrors += end.errors;
}

interface OpenRows {
  table: ModelTable<ModelName>;
  writer: AtomicWriter;
  bytes: number;
  /** Rows of the current source not yet written: stringified together, which is much cheaper than one by one. */
  pending: Cell[][];
}

/** Rows gathered before they are stringified and written. */
const ROWS_PER_WRITE = 256;

interface CurrentSource {
  record: ShardSource;
  item: ItemRecord | undefined;
  /** The source as Hume named it, for rows no item claimed. */
  named: string;
  files: Set<string>;
  predictedFiles: Set<string>;
  key: Omit<RowKey, 'innerPath' | 'groupId'>;
}

class ShardWriter {
  readonly #store: ResultStore;
  readonly #folder: string;
  readonly #options: WriteShardsOptions;
  readonly #open = new Map<ModelName, OpenRows>();
  readonly #sources: ShardSource[] = [];
  readonly #counts = emptyCounts();
  #current: CurrentSource | undefined;
  #innerPath = { file: '', path: '' };

  constructor(store: ResultStore, folder: string, options: WriteShardsOptions) {
    this.#store = store;
    this.#folder = folder;
    this.#options = options;
  }

  source(index: number, source: Source): void {
    const item = this.#options.claim(index, source);
    const named = source as { url?: unknown; filename?: unknown };
    const hume = typeof named.url === 'string' ? named.url : typeof named.filename === 'string' ? named.filename : '';
    const key = item
      ? { itemId: item.id, line: item.line, jobId: this.#options.jobId, source: item.kind === 'text' ? '' : item.value }
      : { itemId: '', line: null, jobId: this.#options.jobId, source: hume };
    this.#innerPath = { file: '', path: '' };
    this.#current = { record: { index, ...(item ? { line: item.line } : {}), errors: 0, rows: {} }, item, named: hume, files: new Set(), predictedFiles: new Set(), key };
  }

  file(name: string): void {
    this.#current!.files.add(name);
  }

  async prediction(model: ModelName, file: string, groupId: string, raw: unknown): Promise<void> {
    const current = this.#current!;
    const where = `${this.#store.resolve(this.#folder)} source ${current.record.index} ${model}`;
    const prediction = parsePart(PREDICTION_SCHEMAS[model], raw, where) as PredictionOf<ModelName>;
    const rows = this.#open.get(model) ?? (await this.#openRows(model, prediction));
    if (this.#innerPath.file !== file) this.#innerPath = { file, path: current.item ? sourceInnerPath(current.item, file) : file };
    current.record.rows[model] ??= [rows.bytes, rows.bytes, 0];
    rows.pending.push(rows.table.row({ ...current.key, innerPath: this.#innerPath.path, groupId }, prediction));
    if (rows.pending.length >= ROWS_PER_WRITE) await this.#flush(model, rows);
    current.predictedFiles.add(file);
    this.#counts.predictions++;
  }

  /** Writes a model's pending rows, which belong to the current source, and extends its range. */
  async #flush(model: ModelName, rows: OpenRows): Promise<void> {
    if (rows.pending.length === 0) return;
    const text = stringify(rows.pending);
    const range = this.#current!.record.rows[model]!;
    range[2] += rows.pending.length;
    rows.pending = [];
    await rows.writer.write(text);
    rows.bytes += Buffer.byteLength(text);
    range[1] = rows.bytes;
  }

  fileError(error: { file?: string | null }): void {
    if (error.file) this.#current!.files.add(error.file);
  }

  async sourceEnd(end: SourceEnd): Promise<void> {
    for (const [model, rows] of this.#open) await this.#flush(model, rows);
    const { record, item, files, predictedFiles } = this.#current!;
    // An archive: some file Hume reported is one inside the item's source.
    if (item && [...files].some((file) => sourceInnerPath(item, file) !== '')) {
      record.files = files.size;
      record.predictedFiles = predictedFiles.size;
    }
    record.errors = end.errors;
    this.#sources.push(record);
    addSource(this.#counts, end);
    this.#options.onSourceEnd?.(end, item);
    this.#current = undefined;
  }

  async commit(): Promise<ShardRecord> {
    const specs: ShardRecord['specs'] = {};
    for (const model of MODEL_NAMES) {
      const rows = this.#open.get(model);
      if (!rows) continue;
      await rows.writer.commit();
      specs[model] = rows.table.spec as Record<string, string[]>;
    }
    const shard: ShardRecord = { jobId: this.#options.jobId, specs, sources: this.#sources, counts: this.#counts };
    await this.#store.writeJson(`${this.#folder}/${SHARD_JSON}`, shard);
    return shard;
  }

  async abort(): Promise<void> {
    await Promise.all([...this.#open.values()].map((rows) => rows.writer.abort()));
  }

  async #openRows(model: ModelName, first: PredictionOf<ModelName>): Promise<OpenRows> {
    const spec: TableSpec = this.#options.specs?.[model] ?? ModelTable.specOf(model, first);
    const rows = { table: new ModelTable(model, spec), writer: await this.#store.createWriter(shardRowsPath(this.#folder, model)), bytes: 0, pending: [] };
    this.#open.set(model, rows);
    return rows;
  }
}
