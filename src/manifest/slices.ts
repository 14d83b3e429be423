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
 * Records after a batch's last item held back from its hash before a snapshot is taken instead:
 * bounded in bytes, and in records (each is a Buffer of its own, ~100 bytes of heap however short).
 */
const HOLD_BYTES = 1024 * 1024;
const HOLD_RECORDS = 4096;

/**
 * Hashes each batch's slice: from its first item's first byte to its last item's last byte.
 * Records after the last item may still be followed by another item of the same batch or not, so
 * they are held back and hashed only when an item follows. A long run of them (past the hold)
 * is hashed at once, after a snapshot (`Hash.copy`) at the last item: a snapshot per item, a
 * native hash context per line, was ~1 µs and garbage outside the JS heap for every line.
 */
export class SliceTracker {
  #running: Hash | undefined;
  /** The hash at the last item, once records after it were hashed into `#running`. */
  #atLastItem: Hash | undefined;
  #held: Buffer[] = [];
  #heldBytes = 0;
  #duplicates: number[] = [];
  #pendingDuplicates: number[] = [];

  /** Feeds the manifest's next record (every record, in order, once a batch has started). */
  add(bytes: Buffer, role: SliceRole, line: number): void {
    if (!this.#running && role !== 'item') return;
    this.#running ??= createHash('sha256');
    if (role !== 'item') {
      if (role === 'duplicate') this.#pendingDuplicates.push(line);
      this.#hold(bytes);
      return;
    }
    for (const held of this.#held) this.#running.update(held);
    this.#held = [];
    this.#heldBytes = 0;
    this.#atLastItem = undefined;
    this.#running.update(bytes);
    this.#duplicates.push(...this.#pendingDuplicates);
    this.#pendingDuplicates = [];
  }

  #hold(bytes: Buffer): void {
    const running = this.#running as Hash;
    if (this.#atLastItem) {
      running.update(bytes);
      return;
    }
    this.#held.push(bytes);
    this.#heldBytes += bytes.length;
    if (this.#heldBytes <= HOLD_BYTES && this.#held.length < HOLD_RECORDS) return;
    this.#atLastItem = running.copy();
    for (const held of this.#held) running.update(held);
    this.#held = [];
    this.#heldBytes = 0;
  }

  /** Ends the open slice (at its last item) and returns what the batch records about it. */
  take(): Pick<BatchRange, 'sliceSha256' | 'duplicateLines'> {
    const atLastItem = this.#atLastItem ?? this.#running;
    if (!atLastItem) throw new Error('no slice to take: no item was added');
    const taken = { sliceSha256: atLastItem.digest('hex'), ...(this.#duplicates.length ? { duplicateLines: this.#duplicates } : {}) };
    this.#running = this.#atLastItem = undefined;
    this.#held = [];
    this.#heldBytes = 0;
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
