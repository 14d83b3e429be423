/**
 * A batch's bytes: hashed while planning's second pass streams the manifest, and read back (only
 * that slice, by position) when the batch is submitted.
 */
import { type Hash, createHash } from 'node:crypto';
import type { BatchRange } from '../schemas/batch.js';
import type { StoredFile } from '../store/storage.js';

/** How a record relates to the batch being hashed. */
export type SliceRole = 'item' | 'duplicate' | 'other';

/**
 * A slice may hold this much that is not its items (invalid lines, duplicates, blanks) before its
 * batch is closed early: what submit reads back and what the batch lists stay small however the
 * manifest interleaves them (a manifest pasted after itself, then new lines, would otherwise put
 * every repeated line into one batch's slice and its list of duplicates).
 */
const MAX_EXTRA_BYTES = 1024 * 1024;
const MAX_EXTRA_RECORDS = 4096;

/**
 * Hashes each batch's slice: from its first item's first byte to its last item's last byte.
 * Records after the last item may still be followed by another item of the same batch or not, so
 * they are held back and hashed only when an item follows (a snapshot of the hash at every item
 * instead, `Hash.copy`, was ~1 µs and a native context of garbage per line).
 */
export class SliceTracker {
  #running: Hash | undefined;
  #held: Buffer[] = [];
  #extraBytes = 0;
  #extraRecords = 0;
  #duplicates: number[] = [];
  #pendingDuplicates: number[] = [];

  /** Feeds the manifest's next record (every record, in order, once a batch has started). */
  add(bytes: Buffer, role: SliceRole, line: number): void {
    if (!this.#running && role !== 'item') return;
    this.#running ??= createHash('sha256');
    if (role !== 'item') {
      if (role === 'duplicate') this.#pendingDuplicates.push(line);
      this.#held.push(bytes);
      this.#extraBytes += bytes.length;
      this.#extraRecords++;
      return;
    }
    for (const held of this.#held) this.#running.update(held);
    this.#held = [];
    this.#running.update(bytes);
    // Not push(...pending): a long run would exceed a call's argument limit.
    this.#duplicates = this.#duplicates.length ? this.#duplicates.concat(this.#pendingDuplicates) : this.#pendingDuplicates;
    this.#pendingDuplicates = [];
  }

  /** True once the open slice holds as much that is not items as it may: close its batch (take). */
  get full(): boolean {
    return this.#extraBytes >= MAX_EXTRA_BYTES || this.#extraRecords >= MAX_EXTRA_RECORDS;
  }

  /** Ends the open slice (at its last item) and returns what the batch records about it. */
  take(): Pick<BatchRange, 'sliceSha256' | 'duplicateLines'> {
    if (!this.#running) throw new Error('no slice to take: no item was added');
    const taken = { sliceSha256: this.#running.digest('hex'), ...(this.#duplicates.length ? { duplicateLines: this.#duplicates } : {}) };
    this.#running = undefined;
    this.#held = [];
    this.#extraBytes = 0;
    this.#extraRecords = 0;
    this.#duplicates = [];
    this.#pendingDuplicates = [];
    return taken;
  }
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Bytes [start, end) of the manifest, read by position (a ranged GET on S3): a batch never re-reads the whole manifest. */
export async function readSlice(file: StoredFile, start: number, end: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  // A shorter file yields a shorter slice, whose hash then differs.
  for await (const chunk of file.read(start, end)) chunks.push(chunk);
  return Buffer.concat(chunks);
}
