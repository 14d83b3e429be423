/**
 * Finds duplicate item ids across a whole manifest, among the ids planning's first pass found may
 * repeat (id-scan.ts), in ~20 bytes each however long: an id is kept as a 64-bit fingerprint and
 * its first line in typed arrays (no string, no object per id), and a fingerprint match is
 * confirmed by reading the earlier line back from the manifest, so a collision of two different
 * ids is never reported as a duplicate. Only confirmed duplicates are kept as strings. Items
 * without an id get `line-<n>`; a suspected one is recorded as one bit per line.
 */
import type { ItemRecord } from '../schemas/batch.js';
import type { StreamStart } from './lines.js';
import { type Problem, problem } from './problems.js';

/** An id's 64-bit fingerprint as two unsigned 32-bit halves. */
export type Fingerprint = readonly [number, number];

export interface IdRegistryOptions {
  /**
   * The id an earlier line declared, read back from the manifest: `from` is a record start at or
   * before `line`, and line `line` ends at or before byte `end`. `undefined` when it has none.
   */
  readId(from: StreamStart, line: number, end: number): Promise<string | undefined>;
  /** The id's fingerprint; tests inject a degenerate one to force collisions. @default fingerprintOf */
  fingerprint?: (id: string) => Fingerprint;
  /** Fingerprints of the ids that may repeat; any other id is unique and is not recorded. */
  suspects: { has(fingerprint: Fingerprint): boolean };
}

/** The id of an item that declares none. */
export const generatedId = (line: number) => `line-${line}`;
const AUTO_ID = /^line-([1-9]\d*)$/;

export class IdRegistry {
  readonly #readId: IdRegistryOptions['readId'];
  readonly #fingerprint: (id: string) => Fingerprint;
  readonly #suspects: IdRegistryOptions['suspects'];
  readonly #table = new FingerprintTable();
  readonly #starts = new RecordStarts();
  /** Ids confirmed duplicated: a third use is answered without reading the manifest again. */
  readonly #confirmed = new Map<string, number>();
  #autoLines = new Uint8Array(1024);

  constructor(options: IdRegistryOptions) {
    this.#readId = options.readId;
    this.#fingerprint = options.fingerprint ?? fingerprintOf;
    this.#suspects = options.suspects;
  }

  /** Registers a valid item's id, or says which earlier line already has it; `byte` is where its record starts. */
  async claim(item: ItemRecord, hasExplicitId: boolean, byte: number): Promise<Problem | undefined> {
    const fingerprint = this.#fingerprint(item.id);
    if (!this.#suspects.has(fingerprint)) return undefined;
    let first = hasExplicitId ? this.#autoOwner(item.id) : undefined;
    // Most ids match no fingerprint: only a match reads the manifest (and awaits).
    if (first === undefined && this.#table.has(fingerprint)) first = await this.#explicitOwner(item.id, fingerprint, byte);
    if (first !== undefined) return problem('id', item.id, `duplicate id (first used on line ${first})`);
    if (hasExplicitId) {
      this.#table.add(fingerprint, item.line);
      this.#starts.note({ line: item.line, byte });
    } else {
      this.#markAuto(item.line);
    }
    return undefined;
  }

  /** The line whose generated id an explicit `line-<n>` repeats, if that line has one. */
  #autoOwner(id: string): number | undefined {
    const auto = AUTO_ID.exec(id);
    const line = auto ? Number(auto[1]) : 0;
    return line > 0 && this.#isAuto(line) ? line : undefined;
  }

  /** The first line of an explicit id: a line of the same fingerprint that, read back, has it. */
  async #explicitOwner(id: string, fingerprint: Fingerprint, before: number): Promise<number | undefined> {
    const known = this.#confirmed.get(id);
    if (known !== undefined) return known;
    for (const line of this.#table.matches(fingerprint)) {
      if ((await this.#readId(this.#starts.before(line), line, before)) !== id) continue;
      this.#confirmed.set(id, line);
      return line;
    }
    return undefined;
  }

  #isAuto(line: number): boolean {
    // Bounds first: bit operations wrap numbers past 2^31 (an id such as `line-4294967297`).
    return line < this.#autoLines.length * 8 && ((this.#autoLines[line >> 3] ?? 0) & (1 << (line & 7))) !== 0;
  }

  #markAuto(line: number): void {
    if (line >> 3 >= this.#autoLines.length) {
      const grown = new Uint8Array(Math.max(this.#autoLines.length * 2, (line >> 3) + 1));
      grown.set(this.#autoLines);
      this.#autoLines = grown;
    }
    this.#autoLines[line >> 3] = (this.#autoLines[line >> 3] ?? 0) | (1 << (line & 7));
  }
}

/**
 * Two 32-bit hashes of the id's UTF-16 code units (FNV-1a and a multiply-xorshift, each finished
 * with murmur3's avalanche): plain number math, several times faster than a crypto digest.
 */
export function fingerprintOf(id: string): Fingerprint {
  let a = 0x811c9dc5;
  let b = 0x9747b28c ^ id.length;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 13;
  }
  return [avalanche(a), avalanche(b)];
}

function avalanche(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Index slots at the start; a power of two, as every capacity is. */
const INITIAL_SLOTS = 1024;
/** The index is kept at most 3/4 full, so a probe run stays a few slots long. */
const MAX_LOAD = 0.75;
/** Entries per chunk: entries never move, so growing never holds two copies of them. */
const CHUNK_BITS = 16;
const CHUNK_MASK = (1 << CHUNK_BITS) - 1;
/** Uint32 words per entry: fingerprint high, fingerprint low, line. */
const WORDS = 3;

/**
 * Fingerprints and lines as entries in fixed-size chunks (12 bytes each), found through an
 * open-addressing index of entry numbers (4 bytes a slot, 1⅓–2⅔ slots an id): 17–23 bytes an id,
 * and a doubling copies only the index. Equal fingerprints take an entry each, so two different
 * ids that collide both stay findable.
 */
export class FingerprintTable {
  readonly #chunks: Uint32Array[] = [];
  #count = 0;
  /** Entry number + 1 per slot; 0 is empty. */
  #index = new Uint32Array(INITIAL_SLOTS);

  has([hi, lo]: Fingerprint): boolean {
    return this.#find(hi, lo, lo) !== -1;
  }

  /** Lines whose fingerprint is (hi, lo), first recorded first. */
  *matches([hi, lo]: Fingerprint): Generator<number> {
    for (let slot = this.#find(hi, lo, lo); slot !== -1; slot = this.#find(hi, lo, slot + 1)) {
      yield this.#word((this.#index[slot] as number) - 1, 2);
    }
  }

  /** The first slot from `from` on (wrapping) whose entry has fingerprint (hi, lo); -1 at the probe run's end. */
  #find(hi: number, lo: number, from: number): number {
    const mask = this.#index.length - 1;
    for (let slot = from & mask; this.#index[slot] !== 0; slot = (slot + 1) & mask) {
      const entry = (this.#index[slot] as number) - 1;
      if (this.#word(entry, 0) === hi && this.#word(entry, 1) === lo) return slot;
    }
    return -1;
  }

  #word(entry: number, word: number): number {
    return (this.#chunks[entry >>> CHUNK_BITS] as Uint32Array)[(entry & CHUNK_MASK) * WORDS + word] as number;
  }

  add([hi, lo]: Fingerprint, line: number): void {
    const entry = this.#count++;
    if ((entry & CHUNK_MASK) === 0) this.#chunks.push(new Uint32Array((CHUNK_MASK + 1) * WORDS));
    const chunk = this.#chunks[entry >>> CHUNK_BITS] as Uint32Array;
    const at = (entry & CHUNK_MASK) * WORDS;
    chunk[at] = hi;
    chunk[at + 1] = lo;
    chunk[at + 2] = line;
    if (this.#count > this.#index.length * MAX_LOAD) this.#reindex(this.#index.length * 2);
    else place(this.#index, lo, entry);
  }

  #reindex(slots: number): void {
    const index = new Uint32Array(slots);
    // In entry order, so equal fingerprints keep their first-recorded order along a probe run.
    for (let entry = 0; entry < this.#count; entry++) place(index, this.#word(entry, 1), entry);
    this.#index = index;
  }
}

function place(index: Uint32Array, lo: number, entry: number): void {
  const mask = index.length - 1;
  let i = lo & mask;
  while (index[i] !== 0) i = (i + 1) & mask;
  index[i] = entry + 1;
}

/** At most this many lines and bytes between a recorded line and the record start before it. */
const START_EVERY_LINES = 64;
const START_EVERY_BYTES = 64 * 1024;

/**
 * Sparse record starts (line → byte), so reading an earlier line back reads < 64 KiB before it:
 * about 12 bytes per 64 lines instead of a byte offset per id.
 */
class RecordStarts {
  #lines = new Uint32Array(256);
  #bytes = new Float64Array(256);
  #count = 0;

  /** Called for every recorded line, in manifest order. */
  note(at: StreamStart): void {
    const last = this.#count - 1;
    if (last >= 0 && at.line - (this.#lines[last] as number) < START_EVERY_LINES && at.byte - (this.#bytes[last] as number) < START_EVERY_BYTES) {
      return;
    }
    if (this.#count === this.#lines.length) {
      this.#lines = grown(this.#lines, new Uint32Array(this.#count * 2));
      this.#bytes = grown(this.#bytes, new Float64Array(this.#count * 2));
    }
    this.#lines[this.#count] = at.line;
    this.#bytes[this.#count] = at.byte;
    this.#count++;
  }

  /** The last noted start at or before a recorded line. */
  before(line: number): StreamStart {
    let [low, high] = [0, this.#count - 1];
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((this.#lines[mid] as number) <= line) low = mid;
      else high = mid - 1;
    }
    return { line: this.#lines[low] as number, byte: this.#bytes[low] as number };
  }
}

function grown<T extends Uint32Array | Float64Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
