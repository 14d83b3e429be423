import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type S3Server, startS3Server } from '../../src/devserver/s3-server.js';
import { type Fingerprint, fingerprintOf } from '../../src/manifest/ids.js';
import { planManifestFile } from '../../src/manifest/index.js';
import { type BatchRange, DEFAULT_BATCH_LIMITS, type InvalidLine, type InvalidLineRef, type ManifestFormat } from '../../src/schemas/batch.js';
import { type StoredFile, createStorage } from '../../src/store/storage.js';
import { batchesOf, jsonl, loadAll, plan, readJsonl, tempDir } from './helpers.js';

/** Every id starting with `x` has the same fingerprint; the others keep theirs. */
const collidingX = (id: string): Fingerprint => (id.startsWith('x') ? [7, 7] : fingerprintOf(id));

/** Plans with the colliding fingerprint; returns the batches, the invalid lines and the counts. */
async function planColliding(file: StoredFile, format: ManifestFormat, baseDir: string) {
  const batches: BatchRange[] = [];
  const invalid: InvalidLine[] = [];
  const result = await planManifestFile(
    file,
    format,
    { baseDir, config: {} },
    DEFAULT_BATCH_LIMITS,
    { batch: async (range) => void batches.push(range), invalid: async (line) => void invalid.push(line) },
    { fingerprint: collidingX },
  );
  const planned = (line: number) => batches.some((b) => b.fromLine <= line && line <= b.toLine && !(b.duplicateLines ?? []).includes(line));
  return { result, invalid, planned };
}

const filler = (n: number) => ({ id: `filler-${n}`, text: `${'padding '.repeat(250)}${n}` });

/**
 * x-ids among ~2 KB fillers; the x-ids share a fingerprint, so the first pass suspects them all:
 * `xa` (line 1), `xb` (line 40) and `xc` (line 41) collide but differ; `xb` again (line 121),
 * `xa` again (lines 160, 200) and `xc` again (line 180) are real duplicates. Line 41 is within 64
 * lines and 64 KiB of line 40, so no record start is kept for it: it is read back from line 40's.
 */
function collidingJsonl(): string {
  const lines: unknown[] = [];
  for (let line = 1; line <= 200; line++) {
    const x = { 1: 'xa', 40: 'xb', 41: 'xc', 121: 'xb', 160: 'xa', 180: 'xc', 200: 'xa' }[line];
    lines.push(x ? { id: x, text: `line ${line}` } : filler(line));
  }
  return jsonl(...lines);
}

/** `count` lines, then the same lines again: every line of the second half a duplicate. */
function repeatedJsonl(count: number): string {
  const half = jsonl(...Array.from({ length: count }, (_, i) => ({ id: `item-${i + 1}`, text: `text ${i + 1}` })));
  return half + half;
}

const expectedDuplicates = [
  { line: 121, field: 'id', value: 'xb', rule: 'duplicate id (first used on line 40)' },
  { line: 160, field: 'id', value: 'xa', rule: 'duplicate id (first used on line 1)' },
  { line: 180, field: 'id', value: 'xc', rule: 'duplicate id (first used on line 41)' },
  { line: 200, field: 'id', value: 'xa', rule: 'duplicate id (first used on line 1)' },
];

describe('duplicate ids by fingerprint', () => {
  it('finds duplicates across a 200,000-line manifest, with the first line of each', async () => {
    const dir = await tempDir();
    const path = join(dir, 'big.jsonl');
    const out = createWriteStream(path);
    const repeats: Record<number, number> = { 150_001: 1, 180_000: 99_999, 199_999: 1, 200_000: 200_000 - 1 };
    for (let line = 1; line <= 200_000; line++) {
      const id = `item-${repeats[line] ?? line}`;
      if (!out.write(`${JSON.stringify({ id, url: `https://media.example.com/${line}.mp4` })}\n`)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');

    const result = await plan({ runDir: join(dir, 'run'), manifest: { path }, skipInvalid: true });
    expect(result).toMatchObject({ items: 200_000, validItems: 200_000 - 3, invalidCount: 3 });
    const invalid = await readJsonl<InvalidLineRef>(join(dir, 'run', 'invalid.jsonl'));
    expect(invalid.map(({ line, rule }) => [line, rule])).toEqual([
      [150_001, 'duplicate id (first used on line 1)'],
      [180_000, 'duplicate id (first used on line 99999)'],
      [199_999, 'duplicate id (first used on line 1)'],
    ]);
  });

  it('finds every duplicate of a manifest repeated after itself, each with its first line', async () => {
    const dir = await tempDir();
    const path = join(dir, 'twice.jsonl');
    await writeFile(path, repeatedJsonl(20_000));
    const result = await plan({ runDir: join(dir, 'run'), manifest: { path }, skipInvalid: true });
    expect(result).toMatchObject({ items: 40_000, validItems: 20_000, invalidCount: 20_000 });
    const invalid = await readJsonl<InvalidLineRef>(join(dir, 'run', 'invalid.jsonl'));
    expect(invalid.every(({ line, rule }) => rule === `duplicate id (first used on line ${line - 20_000})`)).toBe(true);
  });

  it('keeps a long run of duplicates out of every batch: a manifest pasted after itself, then new lines', async () => {
    const dir = await tempDir();
    const path = join(dir, 'pasted.jsonl');
    const first = Array.from({ length: 50 }, (_, i) => ({ id: `a-${i + 1}`, text: `text ${i + 1}` }));
    const fresh = Array.from({ length: 10 }, (_, i) => ({ id: `new-${i + 1}`, text: `new ${i + 1}` }));
    await writeFile(path, jsonl(...first, ...Array.from({ length: 100 }, () => first).flat(), ...fresh));
    const result = await plan({ runDir: join(dir, 'run'), manifest: { path }, skipInvalid: true });
    expect(result).toMatchObject({ items: 5_060, validItems: 60, invalidCount: 5_000, batches: 2 });
    const batches = await batchesOf(result);
    // The first batch closes once its slice holds 4,096 records besides its items; the new lines start the next.
    expect(batches.map(({ fromLine, toLine, items, duplicateLines }) => ({ fromLine, toLine, items, duplicates: duplicateLines?.length ?? 0 }))).toEqual([
      { fromLine: 1, toLine: 50, items: 50, duplicates: 0 },
      { fromLine: 5_051, toLine: 5_060, items: 10, duplicates: 0 },
    ]);
    const loaded = await loadAll(result, dir);
    expect(loaded.map((items) => items.length)).toEqual([50, 10]);
  });

  it('reads a colliding line back: different ids both plan, a real duplicate names its first line', async () => {
    const dir = await tempDir();
    const path = join(dir, 'm.jsonl');
    await writeFile(path, collidingJsonl());
    const { result, invalid, planned } = await planColliding(createStorage().file(path), 'jsonl', dir);
    expect(invalid).toEqual(expectedDuplicates);
    expect(result).toMatchObject({ items: 200, validItems: 196, invalidCount: 4 });
    expect([1, 40, 41].every(planned)).toBe(true);
  });

  it('reads back a first line of 500 KB whole', async () => {
    const dir = await tempDir();
    const path = join(dir, 'm.jsonl');
    await writeFile(path, jsonl({ id: 'xa', text: 'long '.repeat(100_000) }, { id: 'xb', text: 'short' }, { id: 'xa', text: 'again' }));
    const { invalid, planned } = await planColliding(createStorage().file(path), 'jsonl', dir);
    expect(invalid).toEqual([{ line: 3, field: 'id', value: 'xa', rule: 'duplicate id (first used on line 1)' }]);
    expect([1, 2].every(planned)).toBe(true);
  });

  it('reads CSV records back, ids in a column, quoted newlines included', async () => {
    const dir = await tempDir();
    const path = join(dir, 'm.csv');
    const rows = ['text,id', '"two\nlines",xa', 'plain,xb', 'again,xb', '"once\nmore",xc', 'last,xa'];
    await writeFile(path, `${rows.join('\n')}\n`);
    const { result, invalid, planned } = await planColliding(createStorage().file(path), 'csv', dir);
    expect(invalid).toEqual([
      { line: 5, field: 'id', value: 'xb', rule: 'duplicate id (first used on line 4)' },
      { line: 8, field: 'id', value: 'xa', rule: 'duplicate id (first used on line 2)' },
    ]);
    expect(result).toMatchObject({ items: 5, validItems: 3, invalidCount: 2 });
    expect([2, 4, 6].every(planned)).toBe(true);
  });

  describe('on S3', () => {
    let s3: S3Server;
    beforeAll(async () => {
      s3 = await startS3Server();
      await s3.createBucket('manifests');
    });
    afterAll(async () => {
      await s3?.stop();
    });

    it('reads a colliding line back with a ranged GET', async () => {
      const dir = await tempDir();
      const storage = createStorage({ s3: s3.client() });
      await storage.folder('s3://manifests').putFile('m.jsonl', await writeLocal(join(dir, 'm.jsonl'), collidingJsonl()));
      const { result, invalid, planned } = await planColliding(storage.file('s3://manifests/m.jsonl'), 'jsonl', dir);
      expect(invalid).toEqual(expectedDuplicates);
      expect(result).toMatchObject({ items: 200, validItems: 196, invalidCount: 4 });
      expect([1, 40, 41].every(planned)).toBe(true);
    });

    it('finds every duplicate of a repeated manifest read back from S3', async () => {
      const dir = await tempDir();
      const storage = createStorage({ s3: s3.client() });
      await storage.folder('s3://manifests').putFile('twice.jsonl', await writeLocal(join(dir, 'twice.jsonl'), repeatedJsonl(2_000)));
      const { result, invalid } = await planColliding(storage.file('s3://manifests/twice.jsonl'), 'jsonl', dir);
      expect(result).toMatchObject({ items: 4_000, validItems: 2_000, invalidCount: 2_000 });
      expect(invalid.every(({ line, rule }) => rule === `duplicate id (first used on line ${line - 2_000})`)).toBe(true);
    });
  });
});

async function writeLocal(path: string, text: string): Promise<string> {
  await writeFile(path, text);
  return path;
}
