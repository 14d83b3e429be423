/**
 * A batch's bytes: hashed while planning streams the manifest once, and read back (only that
 * slice, by position) when the batch is submitted.
 */
import { type Hash, createHash } from 'node:crypto';
import type { BatchRange } from '../schemas/batch.js';
import type { StoredFile } from '../store/storage.js';

/** How a record relates to the batch being hashed. */
export type SliceRole = 'item' | 'duplicate' | 'other';

/**
 * Hashes each batch's slice: from its first item's first byte to its last item's last byte.
 * Lines after the last item may still be followed by another item of the same batch or not, so
 * the hash is snapshotted (`Hash.copy`) at every item and the snapshot is what a batch keeps.
 */
export class SliceTracker {
  #running: Hash | undefined;
  #committed: Hash | undefined;
  #duplicates: number[] = [];
  #pendingDuplicates: number[] = [];

  /** Feeds the manifest's next record (every record, in order, once a batch has started). */
  add(bytes: Buffer, role: SliceRole, line: number): void {
    if (!this.#running && role !== 'item') return;
    this.#running ??= createHash('sha256');
    this.#running.update(bytes);
    if (role === 'duplicate') this.#pendingDuplicates.push(line);
    if (role === 'item') {
      this.#committed = this.#running.copy();
      this.#duplicates.push(...this.#pendingDuplicates);
      this.#pendingDuplicates = [];
    }
  }

  /** Ends the open slice (at its last item) and returns what the batch records about it. */
  take(): Pick<BatchRange, 'sliceSha256' | 'duplicateLines'> {
    if (!this.#committed) throw new Error('no slice to take: no item was added');
    const taken = { sliceSha256: this.#committed.digest('hex'), ...(this.#duplicates.length ? { duplicateLines: this.#duplicates } : {}) };
    this.#running = this.#committed = undefined;
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
