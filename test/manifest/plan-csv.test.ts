import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { batchesOf, failureOf, loadAll, plan, readJsonl, tempDir } from './helpers.js';

describe('planning a CSV manifest', () => {
  it('reads quoted commas and newlines, puts extra columns in metadata, and batches in order', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'a.wav'), Buffer.alloc(500));
    const csv = [
      'id,url,file,text,speaker,session',
      'u1,https://example.com/1.mp4,,,ann,s1',
      ',,,"Hello, world",bob,', // no id; empty cells are absent
      '',
      't2,,,"line one',
      'line two with ""quotes""",,s2',
      'f1,,a.wav,,"carol, jr",s3',
      'u2,https://example.com/2.mp4,,,,',
    ].join('\r\n');
    const path = join(dir, 'm.csv');
    await writeFile(path, csv);

    const result = await plan({ runDir: join(dir, 'run'), manifest: { path }, limits: { maxTextsPerJob: 1 } });

    expect(result).toMatchObject({ items: 5, validItems: 5, invalidCount: 0, batches: 2, uploadBytes: 500 });
    expect(result.manifest).toMatchObject({ format: 'csv', csvHeader: 'id,url,file,text,speaker,session' });
    const batches = await batchesOf(result);
    expect(batches.map((b) => [b.index, b.fromLine, b.toLine, b.items, b.urls, b.texts, b.files])).toEqual([
      [0, 2, 3, 2, 1, 1, 0],
      [1, 5, 8, 3, 1, 1, 1],
    ]);
    // The slice starts at line 5's first byte.
    expect(batches[1]?.byteStart).toBe(Buffer.byteLength(csv.split('\r\n').slice(0, 4).join('\r\n')) + 2);

    expect(await loadAll(result, dir)).toEqual([
      [
        { line: 2, id: 'u1', kind: 'url', value: 'https://example.com/1.mp4', bytes: 0, metadata: { speaker: 'ann', session: 's1' } },
        { line: 3, id: 'line-3', kind: 'text', value: 'Hello, world', bytes: 12, metadata: { speaker: 'bob' } },
      ],
      [
        { line: 5, id: 't2', kind: 'text', value: 'line one\r\nline two with "quotes"', bytes: 32, metadata: { session: 's2' } },
        { line: 7, id: 'f1', kind: 'file', value: join(dir, 'a.wav'), bytes: 500, metadata: { speaker: 'carol, jr', session: 's3' } },
        { line: 8, id: 'u2', kind: 'url', value: 'https://example.com/2.mp4', bytes: 0 },
      ],
    ]);
  });

  it('reports malformed rows with their line numbers', async () => {
    const dir = await tempDir();
    const path = join(dir, 'm.csv');
    await writeFile(path, ['url,text', 'https://a.test/x,', 'https://a.test/y,,extra', 'bad"quote,', ',', '"never closed,'].join('\n'));
    const failure = await failureOf(plan({ runDir: join(dir, 'run'), manifest: { path } }));
    expect(failure.type).toBe('INVALID_MANIFEST');
    const invalid = await readJsonl<{ line: number; field: string; rule: string }>(join(dir, 'run', 'invalid.jsonl'));
    expect(invalid.map((i) => [i.line, i.field])).toEqual([
      [3, '(line)'],
      [4, '(line)'],
      [5, '(line)'],
      [6, '(line)'],
    ]);
    expect(invalid[0]?.rule).toBe('the row has 3 fields, the header has 2');
    expect(invalid[1]?.rule).toMatch(/^not valid CSV/);
    expect(invalid[2]?.rule).toBe('needs one of url, file, text');
    expect(invalid[3]?.rule).toMatch(/^not valid CSV .*Quote Not Closed/);
  });

  it('refuses a header without a url, file or text column', async () => {
    const dir = await tempDir();
    const path = join(dir, 'm.csv');
    await writeFile(path, 'id,link\n1,https://a.test\n');
    const failure = await failureOf(plan({ runDir: join(dir, 'run'), manifest: { path } }));
    expect(failure).toMatchObject({ type: 'INVALID_MANIFEST', nonRetryable: true });
    expect(failure.message).toMatch(/needs at least one of the columns url, file, text/);
  });
});
