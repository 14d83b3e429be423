/**
 * Copying a job's shard rows into the run's CSV: each row gets its own item's meta cells, texts
 * keep every character however the bytes arrive, and rows that follow each other in the shard
 * are read in one pass (one open, or one ranged GET on S3), not once per item.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RunOutput, type RowSpan } from '../../src/results/run-output.js';
import { createFsStore } from '../../src/store/fs.js';
import type { ResultStore } from '../../src/store/store.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'run-output-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The real store, its reads cut into pieces of `size` bytes (splitting characters), and counted. */
function choppedStore(size: number): { store: ResultStore; reads: [number, number | undefined][] } {
  const fs = createFsStore(root);
  const reads: [number, number | undefined][] = [];
  const store: ResultStore = {
    ...fs,
    async *readBytes(path, start = 0, end) {
      reads.push([start, end]);
      for await (const chunk of fs.readBytes(path, start, end)) {
        for (let i = 0; i < chunk.length; i += size) yield chunk.subarray(i, i + size);
      }
    },
  };
  return { store, reads };
}

const ROWS = [
  't1,1,job,"Grüße aus Köln",0.5\n',
  't1,1,job,"日本語の\ntext",0.25\n',
  't2,2,job,"🙂 ""quoted"" 🙃",0.75\n',
  't3,3,job,plain,1\n',
  't4,4,job,"naïve, café",0\n',
];

it('ends every row with its own item’s meta cells, in one read per run of neighbouring rows, whatever the chunks', async () => {
  const shard = ROWS.join('');
  await writeFile(join(root, 'rows.csv'), shard);
  const offsets = ROWS.reduce<number[]>((at, row) => [...at, at.at(-1)! + Buffer.byteLength(row)], [0]);
  const span = (from: number, to: number, rowEnd: string): RowSpan => ({ range: [offsets[from]!, offsets[to]!, to - from], rowEnd });
  // Items t1 (two rows) and t2 are neighbours; t4 is copied before t3 (a job's order need not be the shard's).
  const spans = [span(0, 2, ',"a,1"'), span(2, 3, ',é'), span(4, 5, ','), span(3, 4, ',🙂')];

  for (const size of [1, 2, 3, 1 << 20]) {
    const { store, reads } = choppedStore(size);
    const out = await RunOutput.open(store, ['meta.k']);
    await out.copyRows('language', {}, 'rows.csv', spans);
    await out.commit();
    const body = (await readFile(join(root, 'csv', 'language.csv'), 'utf8')).split('\n').slice(1).join('\n');
    expect(body, `chunks of ${size} bytes`).toBe(
      [
        't1,1,job,"Grüße aus Köln",0.5,"a,1"\n',
        't1,1,job,"日本語の\ntext",0.25,"a,1"\n',
        't2,2,job,"🙂 ""quoted"" 🙃",0.75,é\n',
        't4,4,job,"naïve, café",0,\n',
        't3,3,job,plain,1,🙂\n',
      ].join(''),
    );
    expect(reads).toEqual([[offsets[0], offsets[3]], [offsets[4], offsets[5]], [offsets[3], offsets[4]]]);
    expect(out.rowsCopied).toBe(5);
  }
});

it('copies rows as they are when no item has meta cells', async () => {
  await writeFile(join(root, 'plain.csv'), ROWS.join(''));
  const { store, reads } = choppedStore(3);
  const out = await RunOutput.open(store, []);
  const end = Buffer.byteLength(ROWS.join(''));
  await out.copyRows('language', {}, 'plain.csv', [{ range: [0, end, 5], rowEnd: '' }]);
  await out.commit();
  expect((await readFile(join(root, 'csv', 'language.csv'), 'utf8')).split('\n').slice(1).join('\n')).toBe(ROWS.join(''));
  expect(reads).toEqual([[0, end]]);
});
