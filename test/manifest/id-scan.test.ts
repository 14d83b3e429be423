import { Readable } from 'node:stream';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IdFilter, scanIds } from '../../src/manifest/id-scan.js';
import { fingerprintOf } from '../../src/manifest/ids.js';
import { planManifestFile } from '../../src/manifest/index.js';
import { DEFAULT_BATCH_LIMITS } from '../../src/schemas/batch.js';
import { type StoredFile, createStorage } from '../../src/store/storage.js';
import { jsonl, tempDir } from './helpers.js';

const scan = (text: string, format: 'jsonl' | 'csv' = 'jsonl') => scanIds(Readable.from([Buffer.from(text)]), format, fingerprintOf);

describe('the first pass over a manifest (which ids may repeat)', () => {
  it('suspects an id seen before, whether declared or generated, and none of 100,000 distinct ones', async () => {
    const lines: unknown[] = Array.from({ length: 100_000 }, (_, i) => ({ id: `item-${i}`, text: 'x' }));
    // Line 100,001 repeats item-7; 100,002 declares no id (line-100002), which line 100,003 declares.
    lines.push({ id: 'item-7', text: 'again' }, { text: 'no id' }, { id: 'line-100002', text: 'taken' });
    // Invalid in the second pass (no source), its id still counts; an unparsable line has none.
    lines.push({ id: 'item-9' }, '{not json');
    const suspects = await scan(jsonl(...lines));
    const suspected = (id: string) => suspects.has(fingerprintOf(id));
    expect(['item-7', 'line-100002', 'item-9'].every(suspected)).toBe(true);
    expect(Array.from({ length: 100_000 }, (_, i) => `item-${i}`).filter(suspected)).toEqual(['item-7', 'item-9']);
  });

  it('reads ids from a CSV column, quoted newlines and all', async () => {
    const suspects = await scan('text,id\n"two\nlines",a\nplain,b\nagain,a\n', 'csv');
    expect([suspects.has(fingerprintOf('a')), suspects.has(fingerprintOf('b'))]).toEqual([true, false]);
  });

  it('keeps a fixed-size filter: a fingerprint once added is seen, a new one is not', () => {
    const filter = new IdFilter();
    expect(filter.add([1, 2])).toBe(false);
    expect(filter.add([1, 2])).toBe(true);
    expect(filter.add([2, 1])).toBe(false);
  });
});

describe('planning in two passes', () => {
  it('refuses a manifest whose bytes changed between the passes, naming it', async () => {
    const dir = await tempDir();
    const path = join(dir, 'growing.jsonl');
    await writeFile(path, jsonl({ id: 'a', text: 'one' }));
    const real = createStorage().file(path);
    let reads = 0;
    // Written to between the two reads: the second pass sees a line the first never did.
    const grown = Buffer.from(jsonl({ id: 'a', text: 'one' }, { id: 'a', text: 'two' }));
    const growing: StoredFile = {
      location: real.location,
      localPath: real.localPath,
      size: () => real.size(),
      lines: () => real.lines(),
      read: (start, end) => (reads++ === 1 ? Readable.from([grown]) : real.read(start, end)),
    };
    const planned = planManifestFile(growing, 'jsonl', { baseDir: dir, config: {} }, DEFAULT_BATCH_LIMITS, { batch: async () => {}, invalid: async () => {} });
    await expect(planned).rejects.toThrow(`the manifest ${path} changed while it was being planned (it is read twice); plan it once it is written in full`);
  });
});
