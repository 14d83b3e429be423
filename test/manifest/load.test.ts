import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBatchItems } from '../../src/activities/manifest.js';
import { activities, batchesOf, failureOf, jsonl, loadAll, plan, tempDir } from './helpers.js';

describe('loadBatchItems', () => {
  it('returns each batch’s items from its slice alone, with true line numbers', async () => {
    const dir = await tempDir();
    const path = join(dir, 'm.jsonl');
    await writeFile(path, jsonl(...Array.from({ length: 250 }, (_, i) => (i % 50 === 7 ? '' : { id: `t${i}`, text: `text ${i}` }))));
    const result = await plan({ runDir: join(dir, 'run'), manifest: { path } });
    const loaded = await loadAll(result, dir);
    expect(loaded.map((items) => items.length)).toEqual([100, 100, 45]);
    expect(loaded.flat().map((i) => i.line)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1).filter((line) => (line - 1) % 50 !== 7));
    expect(loaded[1]?.[0]).toEqual({ line: 103, id: 't102', kind: 'text', value: 'text 102', bytes: 8 });
  });

  it('reads CSV slices with the recorded header', async () => {
    const dir = await tempDir();
    const path = join(dir, 'm.csv');
    const rows = Array.from({ length: 5 }, (_, i) => `r${i},https://a.test/${i},"note ${i},\nsecond line"`);
    await writeFile(path, `\uFEFFid,url,note\n${rows.join('\n')}\n`);
    const result = await plan({ runDir: join(dir, 'run'), manifest: { path }, limits: { maxUrlsPerJob: 2 } });
    expect((await batchesOf(result)).map((b) => [b.fromLine, b.toLine])).toEqual([
      [2, 5],
      [6, 9],
      [10, 11],
    ]);
    const loaded = await loadAll(result, dir);
    expect(loaded[2]).toEqual([{ line: 10, id: 'r4', kind: 'url', value: 'https://a.test/4', bytes: 0, metadata: { note: 'note 4,\nsecond line' } }]);
  });

  it('refuses a batch whose bytes changed since planning', async () => {
    const dir = await tempDir();
    const path = join(dir, 'm.jsonl');
    await writeFile(path, jsonl({ text: 'one' }, { text: 'two' }, { text: 'six' }));
    const result = await plan({ runDir: join(dir, 'run'), manifest: { path }, limits: { maxTextsPerJob: 2 } });
    const [first, second] = await batchesOf(result);
    // Same length, different text, inside the first batch only.
    await writeFile(path, jsonl({ text: 'one' }, { text: 'TWO' }, { text: 'six' }));
    const failure = await failureOf(loadBatchItems(result.manifest, first!, { baseDir: dir, config: {} }));
    expect(failure).toMatchObject({ type: 'MANIFEST_CHANGED', nonRetryable: true });
    expect(failure.message).toBe(`the manifest ${path} changed since the run was planned: lines 1-2 (batch 0) differ; restore those lines as planned, then redrive the run to re-run them (or start a new run for the edited manifest)`);
    // The other batch's bytes are untouched.
    await expect(loadBatchItems(result.manifest, second!, { baseDir: dir, config: {} })).resolves.toHaveLength(1);
  });

  it('refuses a batch whose items are no longer valid (a file removed since planning)', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'a.wav'), 'x');
    const path = join(dir, 'm.jsonl');
    await writeFile(path, jsonl({ file: 'a.wav' }, { text: 'two' }));
    const result = await plan({ runDir: join(dir, 'run'), manifest: { path } });
    await rm(join(dir, 'a.wav'));
    const [range] = await batchesOf(result);
    const failure = await failureOf(loadBatchItems(result.manifest, range!, { baseDir: dir, config: {} }));
    expect(failure.type).toBe('MANIFEST_CHANGED');
    expect(failure.message).toMatch(/2 items were valid when planned, 1 are now \(line 1: file: file not found/);
  });

  it('refuses a manifest that is gone, naming it', async () => {
    const dir = await tempDir();
    const path = join(dir, 'm.jsonl');
    await writeFile(path, jsonl({ text: 'one' }));
    const result = await plan({ runDir: join(dir, 'run'), manifest: { path } });
    await rm(path);
    const [range] = await batchesOf(result);
    const failure = await failureOf(loadBatchItems(result.manifest, range!, { baseDir: dir, config: {} }));
    expect(failure.message).toBe(`cannot read the manifest ${path} (ENOENT)`);
  });
});

describe('humeReadPlan', () => {
  it('reads the plan in pages', async () => {
    const dir = await tempDir();
    const path = join(dir, 'm.jsonl');
    await writeFile(path, jsonl(...Array.from({ length: 25 }, (_, i) => ({ url: `https://a.test/${i}` }))));
    const result = await plan({ runDir: join(dir, 'run'), manifest: { path }, limits: { maxUrlsPerJob: 3 } });
    expect(result.batches).toBe(9);
    const pages = [];
    for (let offset = 0; offset < 12; offset += 4) pages.push(await activities.humeReadPlan({ planPath: result.planPath, offset, limit: 4 }));
    expect(pages.map((page) => page.map((b) => b.index))).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8]]);
    expect(pages[2]?.[0]).toMatchObject({ fromLine: 25, toLine: 25, items: 1 });
  });
});
