/**
 * Planning's first pass: which ids may occur more than once. Every line's id goes through a
 * Bloom filter of fixed size; an id the filter has already seen (a repeat, or rarely another id
 * whose bits happen to be set) becomes a suspect. The second pass tracks only suspects exactly, so
 * memory no longer grows with a manifest's distinct ids, only with its repeated ones.
 */
import type { ManifestFormat } from '../schemas/batch.js';
import { type Fingerprint, FingerprintTable, generatedId } from './ids.js';
import { isProblem } from './problems.js';
import { readManifest } from './reader.js';

/**
 * 8 MiB of bits, 6 probes: at 2 M distinct ids a handful of false suspects (7 measured), at 10 M
 * about 1 % of the ids (each costs the second pass ~20 bytes), so larger manifests degrade to exact
 * tracking gradually, never wrongly.
 */
const FILTER_BITS = 2 ** 26;
const PROBES = 6;

/** Progress is reported every this many lines, in either pass. */
export const PROGRESS_EVERY = 5_000;

export class IdFilter {
  readonly #words = new Uint32Array(FILTER_BITS / 32);

  /** Sets the id's bits; true when all of them were set already (it may have been seen). */
  add([hi, lo]: Fingerprint): boolean {
    let seen = true;
    // Double hashing: probe i at lo + i·hi, hi odd so the probes differ.
    const step = hi | 1;
    for (let i = 0, bit = lo; i < PROBES; i++, bit = (bit + step) >>> 0) {
      const at = (bit & (FILTER_BITS - 1)) >>> 5;
      const mask = 1 << (bit & 31);
      const word = this.#words[at] as number;
      if ((word & mask) === 0) {
        seen = false;
        this.#words[at] = word | mask;
      }
    }
    return seen;
  }
}

/**
 * Reads the manifest once for its ids; returns the fingerprints of those that may repeat. A line
 * that does not parse has no id to repeat (the second pass refuses it); a line without one has its
 * generated `line-<n>`, which an explicit id may repeat. Ids of lines that later fail validation
 * count too: a suspect too many costs a few bytes, a missed one a duplicate job.
 */
export async function scanIds(
  chunks: AsyncIterable<Buffer>,
  format: ManifestFormat,
  fingerprint: (id: string) => Fingerprint,
  progress?: (line: number) => void,
): Promise<FingerprintTable> {
  const filter = new IdFilter();
  const suspects = new FingerprintTable();
  let lines = 0;
  for await (const entry of readManifest(chunks, { format })) {
    if (entry.kind !== 'line') continue;
    if (++lines % PROGRESS_EVERY === 0) progress?.(entry.record.line);
    if (isProblem(entry.parsed)) continue;
    const id = fingerprint(entry.parsed.id ?? generatedId(entry.record.line));
    if (filter.add(id) && !suspects.has(id)) suspects.add(id, entry.record.line);
  }
  return suspects;
}
