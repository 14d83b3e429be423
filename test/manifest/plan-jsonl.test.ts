import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { batchesOf, jsonl, loadAll, plan, readJsonl, tempDir } from './helpers.js';

describe('planning a JSONL manifest', () => {
  it('batches valid items in order, with exact line and byte ranges, hashes and counts', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'a.wav'), Buffer.alloc(1000));
    await writeFile(join(dir, 'b.wav'), Buffer.alloc(3000));
    const lines = [
      { id: 'u1', url: 'https://example.com/1.mp4' },
      { text: 'héllo', metadata: { lang: 'fr' } },
      '',
      { id: 'f1', file: 'a.wav' },
      { id: 'f2', file: 'b.wav' },
      '   ',
      { url: 'http://example.com/2.mp3' },
    ];
    const path = join(dir, 'm.jsonl');
    const text = jsonl(...lines);
    await writeFile(path, text);
    const runDir = join(dir, 'run');

    const result = await plan({ runDir, manifest: { path }, limits: { maxUrlsPerJob: 1 } });

    expect(result).toMatchObject({ items: 5, validItems: 5, invalidCount: 0, invalid: [], batches: 2, uploadBytes: 4000, planPath: join(runDir, 'plan.jsonl') });
    expect(result.manifest).toMatchObject({ path, format: 'jsonl' });
    expect(result.manifest.sha256).toMatch(/^[0-9a-f]{64}$/);
    const batches = await batchesOf(result);
    const lineStart = (n: number) => Buffer.byteLength(text.split('\n').slice(0, n - 1).join('\n')) + (n > 1 ? 1 : 0);
    expect(batches).toEqual([
      expect.objectContaining({ index: 0, fromLine: 1, toLine: 5, byteStart: 0, byteEnd: lineStart(6), items: 4, urls: 1, texts: 1, files: 2, uploadBytes: 4000 }),
      expect.objectContaining({ index: 1, fromLine: 7, toLine: 7, byteStart: lineStart(7), byteEnd: Buffer.byteLength(text), items: 1, urls: 1, texts: 0, files: 0 }),
    ]);
    expect(await readJsonl(join(runDir, 'invalid.jsonl'))).toEqual([]);

    const loaded = await loadAll(result, dir);
    expect(loaded).toEqual([
      [
        { line: 1, id: 'u1', kind: 'url', value: 'https://example.com/1.mp4', bytes: 0 },
        { line: 2, id: 'line-2', kind: 'text', value: 'héllo', bytes: 6, metadata: { lang: 'fr' } },
        { line: 4, id: 'f1', kind: 'file', value: join(dir, 'a.wav'), bytes: 1000 },
        { line: 5, id: 'f2', kind: 'file', value: join(dir, 'b.wav'), bytes: 3000 },
      ],
      [{ line: 7, id: 'line-7', kind: 'url', value: 'http://example.com/2.mp3', bytes: 0 }],
    ]);
  });

  it('treats null fields as absent, reads a UTF-8 BOM and CRLF line ends', async () => {
    const dir = await tempDir();
    const path = join(dir, 'm.ndjson');
    await writeFile(path, `\uFEFF${JSON.stringify({ id: null, url: 'https://x.test/a', text: null })}\r\n${JSON.stringify({ text: 'b' })}\r\n`);
    const result = await plan({ runDir: join(dir, 'run'), manifest: { path } });
    expect(result).toMatchObject({ items: 2, validItems: 2, batches: 1 });
    expect(await loadAll(result, dir)).toEqual([
      [
        { line: 1, id: 'line-1', kind: 'url', value: 'https://x.test/a', bytes: 0 },
        { line: 2, id: 'line-2', kind: 'text', value: 'b', bytes: 1 },
      ],
    ]);
  });

  it('plans inline items through <runDir>/manifest.jsonl, resolving their file paths', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'c.jpg'), Buffer.alloc(10));
    const runDir = join(dir, 'run');
    const result = await plan({ runDir, items: [{ text: 'hi' }, { id: 'pic', file: join(dir, 'c.jpg') }] });
    expect(result.manifest).toMatchObject({ path: join(runDir, 'manifest.jsonl'), format: 'jsonl' });
    expect(result).toMatchObject({ items: 2, validItems: 2, batches: 1, uploadBytes: 10 });
  });

  it('refuses a manifest of blank lines: no items is bad input, not an empty run', async () => {
    const dir = await tempDir();
    const path = join(dir, 'm.jsonl');
    await writeFile(path, '\n\n');
    await expect(plan({ runDir: join(dir, 'run'), manifest: { path } })).rejects.toMatchObject({
      type: 'INVALID_MANIFEST',
      nonRetryable: true,
      message: `the manifest ${path} has no items`,
    });
  });
});
