import { mkdir, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planManifestFile } from '../../src/manifest/index.js';
import { DEFAULT_BATCH_LIMITS, type InvalidLine, type InvalidLineRef } from '../../src/schemas/batch.js';
import { batchesOf, failureOf, jsonl, loadAll, plan, readJsonl, tempDir } from './helpers.js';
import { createStorage } from '../../src/store/storage.js';


async function manifestWithEveryRule(dir: string): Promise<{ path: string; expected: Array<[number, string, RegExp]> }> {
  await writeFile(join(dir, 'ok.wav'), Buffer.alloc(10));
  await mkdir(join(dir, 'folder'));
  // Sparse: 1 byte over Hume's 100 MB per local file, no disk used.
  await writeFile(join(dir, 'huge.mp4'), '');
  await truncate(join(dir, 'huge.mp4'), 100 * 1024 * 1024 + 1);
  const lines: unknown[] = [
    { id: 'a', url: 'https://example.com/a.mp4' }, // 1 valid
    '{"url": "https://example.com/b.mp4"', // 2 not JSON
    '[1, 2]', // 3 not an object
    { url: 'https://example.com/c.mp4', colour: 'red' }, // 4 unknown field
    { id: 7, url: 'https://example.com/d.mp4' }, // 5 wrong type
    { id: 'no-source', metadata: {} }, // 6 no source
    { url: 'https://example.com/e.mp4', text: 'and text' }, // 7 several sources
    { text: '' }, // 8 empty text
    { file: 'missing.wav' }, // 9 missing file
    { file: 'folder' }, // 10 not a file
    { file: 'huge.mp4' }, // 11 over the local file limit
    { url: 'ftp://example.com/f.mp4' }, // 12 not http(s)
    { url: 'not a url' }, // 13 not a URL
    { id: 'a', file: 'ok.wav' }, // 14 duplicate id
    { id: 'line-1', text: 'x' }, // 15 valid: line 1 has an explicit id
    { id: 'line-16', url: 'https://example.com/g.mp4' }, // 16 valid: its own auto id, given explicitly
    { url: 'https://example.com/h.mp4' }, // 17 valid (auto id line-17)
    { id: 'line-17', url: 'https://example.com/i.mp4' }, // 18 duplicate of line 17's auto id
    { id: '', url: 'https://example.com/j.mp4' }, // 19 empty id
  ];
  const path = join(dir, 'm.jsonl');
  await writeFile(path, jsonl(...lines));
  return {
    path,
    expected: [
      [2, '(line)', /^not valid JSON/],
      [3, '(line)', /^must be a JSON object$/],
      [4, 'colour', /^unknown field \(the fields are id, url, file, text, metadata\)$/],
      [5, 'id', /expected string/],
      [6, '(line)', /^needs one of url, file, text$/],
      [7, '(line)', /^needs exactly one of url, file, text \(has url, text\)$/],
      [8, 'text', /^the text is empty$/],
      [9, 'file', /^file not found/],
      [10, 'file', /^not a regular file$/],
      [11, 'file', /^the file is 104857601 bytes, over the limit of 104857600 bytes per local file$/],
      [12, 'url', /^only http and https URLs are allowed$/],
      [13, 'url', /^not a valid URL$/],
      [14, 'id', /^duplicate id \(first used on line 1\)$/],
      [18, 'id', /^duplicate id \(first used on line 17\)$/],
      [19, 'id', /too small|>=1 character/],
    ],
  };
}

function expectReport(invalid: InvalidLineRef[], expected: Array<[number, string, RegExp]>): void {
  expect(invalid.map((i) => [i.line, i.field])).toEqual(expected.map(([line, field]) => [line, field]));
  invalid.forEach((line, i) => expect(line.rule).toMatch(expected[i]?.[2] ?? /^$/));
}

describe('validating a manifest', () => {
  it('refuses the run with every invalid line: line, field and rule in the failure, values only in invalid.jsonl', async () => {
    const dir = await tempDir();
    const { path, expected } = await manifestWithEveryRule(dir);
    const runDir = join(dir, 'run');

    const failure = await failureOf(plan({ runDir, manifest: { path } }));

    expect(failure).toMatchObject({ type: 'INVALID_MANIFEST', nonRetryable: true });
    const [details] = failure.details as [{ invalidCount: number; invalid: InvalidLineRef[] }];
    expect(details.invalidCount).toBe(expected.length);
    expectReport(details.invalid, expected);
    // The failure is recorded in history: it names the line, never its URL, path or text.
    expect(details.invalid.find((i) => i.line === 12)).toEqual({ line: 12, field: 'url', rule: 'only http and https URLs are allowed' });
    const written = (await readJsonl(join(runDir, 'invalid.jsonl'))) as InvalidLine[];
    expect(written.map(({ value: _, ...ref }) => ref)).toEqual(details.invalid);
    expect(written.find((i) => i.line === 12)?.value).toBe('ftp://example.com/f.mp4');
    expect(written.find((i) => i.line === 4)?.value).toBe('red');
    expect(written.find((i) => i.line === 7)?.value).toBe('url=https://example.com/e.mp4 text=and text');
    expect(written.find((i) => i.line === 9)?.value).toBe(join(dir, 'missing.wav'));
    expect(failure.message.split('\n')).toEqual([
      `the manifest ${path} has ${expected.length} invalid lines:`,
      ...details.invalid.map((i) => `line ${i.line}: ${i.field}: ${i.rule}`),
    ]);
    for (const { value } of written.filter((i) => i.value.length > 3)) expect(failure.message).not.toContain(value);
  });

  it('lists the first 20 bad lines in the message and counts the rest', async () => {
    const dir = await tempDir();
    const path = join(dir, 'm.jsonl');
    await writeFile(path, jsonl(...Array.from({ length: 25 }, () => ({ text: '' }))));
    const failure = await failureOf(plan({ runDir: join(dir, 'run'), manifest: { path } }));
    const lines = failure.message.split('\n');
    expect(lines).toHaveLength(22);
    expect(lines[1]).toBe('line 1: text: the text is empty');
    expect(lines[21]).toBe(`… and 5 more (see ${join(dir, 'run', 'invalid.jsonl')})`);
  });

  it('with skipInvalid plans the valid items and lists what it skipped', async () => {
    const dir = await tempDir();
    const { path, expected } = await manifestWithEveryRule(dir);
    const runDir = join(dir, 'run');

    const result = await plan({ runDir, manifest: { path }, skipInvalid: true });

    expect(result).toMatchObject({ items: 19, validItems: 4, invalidCount: expected.length, batches: 1 });
    expectReport(result.invalid, expected);
    expectReport(await readJsonl(join(runDir, 'invalid.jsonl')), expected);
    // Submit sees the same items, duplicates (refused across the whole manifest) left out.
    const [batch] = await batchesOf(result);
    expect(batch).toMatchObject({ fromLine: 1, toLine: 17, items: 4, duplicateLines: [14] });
    const loaded = await loadAll(result, dir);
    expect(loaded.flat().map((i) => [i.line, i.id])).toEqual([
      [1, 'a'],
      [15, 'line-1'],
      [16, 'line-16'],
      [17, 'line-17'],
    ]);
  });

  it('refuses text items when no text model is requested, and allows them when models are omitted', async () => {
    const dir = await tempDir();
    const path = join(dir, 'm.jsonl');
    await writeFile(path, jsonl({ text: 'hello' }, { url: 'https://example.com/a.mp4' }));
    const failure = await failureOf(plan({ runDir: join(dir, 'r1'), manifest: { path }, config: { models: { face: {}, language: null } } }));
    expect(failure.message).toContain('line 1: text: a text item needs a text model (language or ner) in models');
    await expect(plan({ runDir: join(dir, 'r2'), manifest: { path }, config: { models: { ner: {} } } })).resolves.toMatchObject({ validItems: 2 });
    await expect(plan({ runDir: join(dir, 'r3'), manifest: { path }, config: { models: null } })).resolves.toMatchObject({ validItems: 2 });
  });

  it('reports a path that cannot be read as a file', async () => {
    // A folder where a file should be: unreadable as a file for every user, root included.
    const dir = await tempDir();
    await mkdir(join(dir, 'clip.wav'));
    const path = join(dir, 'm.jsonl');
    await writeFile(path, jsonl({ file: 'clip.wav' }));
    const failure = await failureOf(plan({ runDir: join(dir, 'run'), manifest: { path } }));
    expect(failure.message).toContain('line 1: file: not a regular file');
  });

  it('enforces lowered text and file limits', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'a.wav'), Buffer.alloc(11));
    const path = join(dir, 'm.jsonl');
    await writeFile(path, jsonl({ text: 'ééééé' }, { text: 'éééé' }, { file: 'a.wav' }));
    const invalid: InvalidLine[] = [];
    const result = await planManifestFile(
      createStorage().file(path),
      'jsonl',
      { baseDir: dir, config: {}, limits: { maxTextBytes: 9, maxLocalFileBytes: 10 } },
      DEFAULT_BATCH_LIMITS,
      { batch: async () => {}, invalid: async (line) => void invalid.push(line) },
    );
    expect(result).toMatchObject({ items: 3, validItems: 1, invalidCount: 2 });
    expect(invalid).toEqual([
      { line: 1, field: 'text', value: 'ééééé', rule: 'the text is 10 bytes, over the limit of 9 bytes' },
      { line: 3, field: 'file', value: 'a.wav', rule: 'the file is 11 bytes, over the limit of 10 bytes per local file' },
    ]);
  });

  it('batches under a lowered upload cap, an oversized file alone', async () => {
    const dir = await tempDir();
    for (const [name, size] of [['a', 40], ['b', 70], ['c', 30], ['d', 200]] as const) await writeFile(join(dir, `${name}.wav`), Buffer.alloc(size));
    const path = join(dir, 'm.jsonl');
    await writeFile(path, jsonl({ file: 'a.wav' }, { file: 'b.wav' }, { file: 'c.wav' }, { file: 'd.wav' }, { text: 't' }));
    const result = await plan({ runDir: join(dir, 'run'), manifest: { path }, limits: { maxUploadBytesPerJob: 100 } });
    expect((await batchesOf(result)).map((b) => [b.fromLine, b.toLine, b.uploadBytes])).toEqual([
      [1, 1, 40],
      [2, 3, 100],
      [4, 4, 200],
      [5, 5, 0],
    ]);
  });

  it('refuses bad config and limits before reading the manifest', async () => {
    const dir = await tempDir();
    const runDir = join(dir, 'run');
    const items = [{ text: 'x' }];
    expect(await failureOf(plan({ runDir, items, config: { models: { face: { fps_pred: -1 } } } }))).toMatchObject({ type: 'INVALID_CONFIG' });
    expect((await failureOf(plan({ runDir, items, config: { models: {} } }))).message).toMatch(/enable at least one model/);
    expect((await failureOf(plan({ runDir, items, limits: { maxTextsPerJob: 500 } }))).message).toMatch(/^limits: maxTextsPerJob/);
  });

  it('refuses a missing manifest or an unknown extension, naming the path', async () => {
    const dir = await tempDir();
    const missing = join(dir, 'nope.jsonl');
    const failure = await failureOf(plan({ runDir: join(dir, 'run'), manifest: { path: missing } }));
    expect(failure).toMatchObject({ type: 'INVALID_MANIFEST', nonRetryable: true });
    expect(failure.message).toBe(`cannot read the manifest ${missing} (ENOENT)`);
    expect((await failureOf(plan({ runDir: join(dir, 'run'), manifest: { path: join(dir, 'm.txt') } }))).message).toContain(join(dir, 'm.txt'));
  });
});

describe('allowedRoot', () => {
  it('refuses ../ escapes and symlinks pointing outside, accepts files inside', async () => {
    const dir = await tempDir();
    const root = join(dir, 'root');
    await mkdir(join(root, 'sub'), { recursive: true });
    await writeFile(join(dir, 'outside.wav'), 'x');
    await writeFile(join(root, 'sub', 'inside.wav'), 'x');
    await symlink(join(dir, 'outside.wav'), join(root, 'sneaky.wav'));
    await symlink(join(root, 'sub', 'inside.wav'), join(root, 'alias.wav'));
    const path = join(root, 'm.jsonl');
    await writeFile(
      path,
      jsonl({ file: 'sub/inside.wav' }, { file: '../outside.wav' }, { file: 'sneaky.wav' }, { file: 'alias.wav' }, { file: join(dir, 'outside.wav') }, { file: '../missing.wav' }),
    );
    const result = await plan({ runDir: join(dir, 'run'), manifest: { path }, allowedRoot: root, skipInvalid: true });
    const outside = `the file is outside the allowed root ${root} (symlinks followed)`;
    expect(await readJsonl(join(dir, 'run', 'invalid.jsonl'))).toEqual([
      { line: 2, field: 'file', value: '../outside.wav', rule: outside },
      { line: 3, field: 'file', value: 'sneaky.wav', rule: outside },
      { line: 5, field: 'file', value: join(dir, 'outside.wav'), rule: outside },
      { line: 6, field: 'file', value: '../missing.wav', rule: outside },
    ]);
    expect(result.validItems).toBe(2);
  });
});
