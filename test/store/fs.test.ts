/** The filesystem store: whole files or nothing, reads of missing files, writes kept inside the run folder. */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFsStore } from '../../src/store/fs.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'store-'));
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe('createFsStore', () => {
  it('shows a streamed file under its name only once committed, in full', async () => {
    const store = createFsStore(root);
    const writer = await store.createWriter('csv/face.csv');
    const big = 'x'.repeat(100_000);
    await writer.write('a,b\n');
    await writer.write(big);
    expect(await store.exists('csv/face.csv')).toBe(false);
    await writer.commit();
    expect(await readFile(join(root, 'csv/face.csv'), 'utf8')).toBe(`a,b\n${big}`);
    expect(await readdir(join(root, 'csv'))).toEqual(['face.csv']);
  });

  it('continues a resumable file from its saved length, dropping what came after, and shows it only once committed', async () => {
    const store = createFsStore(root);
    const first = await store.createResumableWriter('csv/face.csv');
    await first.write('h\u00e9ader\n');
    await first.write('row 1\n');
    const saved = await first.save();
    expect(saved).toBe(Buffer.byteLength('h\u00e9ader\nrow 1\n'));
    await first.write('row 2, never saved');
    await first.save();
    // The process dies here: no commit, no abort.
    const again = await store.createResumableWriter('csv/face.csv', saved);
    expect(again.bytes).toBe(saved);
    await again.write('row 2\n');
    expect(await store.exists('csv/face.csv')).toBe(false);
    await again.commit();
    expect(await readFile(join(root, 'csv/face.csv'), 'utf8')).toBe('h\u00e9ader\nrow 1\nrow 2\n');
    expect(await readdir(join(root, 'csv'))).toEqual(['face.csv']);
    await expect(store.createResumableWriter('csv/face.csv', 3)).rejects.toThrow(/face\.csv\.partial/);
  });

  it('abort keeps the previous file and leaves no temporary file', async () => {
    const store = createFsStore(root);
    await store.writeJson('summary.json', { v: 1 });
    const writer = await store.createWriter('summary.json');
    await writer.write('{"v": 2');
    await writer.abort();
    expect(await store.readJson('summary.json')).toEqual({ v: 1 });
    expect(await readdir(root)).toEqual(['summary.json']);
  });

  it('writes pretty JSON with a final newline; a missing file reads as undefined', async () => {
    const store = createFsStore(root);
    await store.writeJson('jobs/0-a/outcome.json', { batch: 0 });
    expect(await readFile(join(root, 'jobs/0-a/outcome.json'), 'utf8')).toBe('{\n  "batch": 0\n}\n');
    expect(await store.readJson('jobs/1-b/outcome.json')).toBeUndefined();
  });

  it('writes a write-once file only when none is there, whole, leaving no temporary file', async () => {
    const store = createFsStore(join(root, 'run'));
    expect(await store.writeJsonOnce('owner.json', { v: 1 })).toBe(true);
    expect(await store.writeJsonOnce('owner.json', { v: 2 })).toBe(false);
    expect(await readFile(join(root, 'run', 'owner.json'), 'utf8')).toBe('{\n  "v": 1\n}\n');
    expect(await readdir(join(root, 'run'))).toEqual(['owner.json']);
  });

  it('lets exactly one of concurrent write-once writers win', async () => {
    const store = createFsStore(root);
    const won = await Promise.all(Array.from({ length: 8 }, (_, v) => store.writeJsonOnce('owner.json', { v })));
    expect(won.filter(Boolean)).toHaveLength(1);
    expect(await store.readJson('owner.json')).toEqual({ v: won.indexOf(true) });
    expect(await readdir(root)).toEqual(['owner.json']);
  });

  it('lists a folder sorted, and a missing one as empty', async () => {
    const store = createFsStore(root);
    for (const name of ['10-b', '2-a', '1-c']) await store.writeJson(`jobs/${name}/outcome.json`, {});
    expect(await store.list('jobs')).toEqual(['1-c', '10-b', '2-a']);
    expect(await store.list('nope')).toEqual([]);
  });

  it('streams lines of relative and absolute paths', async () => {
    await writeFile(join(root, 'plan.jsonl'), 'one\r\ntwo\n');
    const store = createFsStore(root);
    const lines: string[] = [];
    for await (const line of store.readLines(join(root, 'plan.jsonl'))) lines.push(line);
    expect(lines).toEqual(['one', 'two']);
  });

  it('refuses to write outside the run folder', async () => {
    const store = createFsStore(join(root, 'run'));
    await expect(store.createWriter('../escape.json')).rejects.toThrow(/outside/);
    await expect(store.writeJson(join(root, 'other.json'), {})).rejects.toThrow(/outside/);
  });
});
