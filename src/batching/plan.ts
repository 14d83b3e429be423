/**
 * Cuts a manifest's valid items into Hume jobs: contiguous, in manifest order, each within every
 * per-request limit. Pure (no I/O, no hashing) and deterministic.
 *
 * Greedy filling gives the fewest jobs: a subset of a feasible batch is feasible, so closing a
 * batch only when the next item does not fit never costs a batch. A local file larger than
 * `maxUploadBytesPerJob` (but within Hume's per-file limit) cannot share an upload with anything,
 * so it gets a batch of its own; that rule keeps feasibility monotone. Texts are counted the same
 * way against `maxTextBytesPerJob`: a JSON request is built, sent and held by both ends whole, so
 * three 180 MB texts (each within Hume's 255 MB) must not make one request.
 */
import { type BatchLimits, BatchLimits as BatchLimitsSchema, type BatchRange, type ItemRecord } from '../schemas/batch.js';

/** Where an item's record lies in the manifest. */
export interface ManifestSlice {
  line: number;
  /** Last line of the record (CSV records may span lines). */
  endLine: number;
  byteStart: number;
  byteEnd: number;
}

/** A batch as the planner sees it: everything but the hash of its bytes, which the reader adds. */
export type PlannedBatch = Omit<BatchRange, 'sliceSha256' | 'duplicateLines'>;

const COUNTERS = { url: 'urls', text: 'texts', file: 'files' } as const;

export class BatchPlanner {
  readonly #limits: BatchLimits;
  readonly #caps: Record<(typeof COUNTERS)[keyof typeof COUNTERS], number>;
  #open: PlannedBatch | undefined;
  /** UTF-8 bytes of the open batch's texts (not part of the plan record: only planning needs it). */
  #openTextBytes = 0;
  #next = 0;

  constructor(limits: BatchLimits) {
    const parsed = BatchLimitsSchema.safeParse(limits);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new RangeError(`batch limits: ${issue?.path.join('.')}: ${issue?.message}`);
    }
    this.#limits = parsed.data;
    this.#caps = { urls: parsed.data.maxUrlsPerJob, texts: parsed.data.maxTextsPerJob, files: parsed.data.maxFilesPerJob };
  }

  /** Adds the next valid item; returns the batch it closed, if it did not fit there. */
  add(item: ItemRecord, slice: ManifestSlice): PlannedBatch | undefined {
    const closed = this.#open && !this.#fits(this.#open, item) ? this.#close() : undefined;
    const batch = (this.#open ??= {
      index: this.#next++,
      fromLine: slice.line,
      toLine: slice.endLine,
      byteStart: slice.byteStart,
      byteEnd: slice.byteEnd,
      items: 0,
      urls: 0,
      texts: 0,
      files: 0,
      uploadBytes: 0,
    });
    batch.toLine = slice.endLine;
    batch.byteEnd = slice.byteEnd;
    batch.items++;
    batch[COUNTERS[item.kind]]++;
    if (item.kind === 'file') batch.uploadBytes += item.bytes;
    if (item.kind === 'text') this.#openTextBytes += item.bytes;
    return closed;
  }

  /** Closes the last batch, if any. */
  finish(): PlannedBatch | undefined {
    return this.#open ? this.#close() : undefined;
  }

  #fits(batch: PlannedBatch, item: ItemRecord): boolean {
    const counter = COUNTERS[item.kind];
    // A batch holding an oversized file is over the cap already, so nothing joins it.
    const upload = batch.uploadBytes + (item.kind === 'file' ? item.bytes : 0);
    const texts = this.#openTextBytes + (item.kind === 'text' ? item.bytes : 0);
    return (
      batch[counter] < this.#caps[counter] &&
      upload <= this.#limits.maxUploadBytesPerJob &&
      texts <= this.#limits.maxTextBytesPerJob
    );
  }

  #close(): PlannedBatch | undefined {
    const closed = this.#open;
    this.#open = undefined;
    this.#openTextBytes = 0;
    return closed;
  }
}
