/**
 * Manifests that used to slip through: no items at all (a run of nothing), bytes that are not
 * UTF-8 (replaced by U+FFFD and sent to Hume); and results folders no retry can make writable.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { createFsStore, unwritableFailure } from '../../src/store/fs.js';
import { plan, tempDir } from './helpers.js';

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('manifest honesty', () => {
  it('refuses a manifest with no items (empty, blank lines, or a CSV header alone) as INVALID_MANIFEST', async () => {
    const dir = await tempDir();
    const cases = { 'empty.jsonl': '', 'blank.jsonl': '\n  \n\n', 'header.csv': 'id,text\n' };
    for (const [name, content] of Object.entries(cases)) {
      const path = join(dir, name);
      await writeFile(path, content);
      const failure = await failureOf(plan({ runDir: join(dir, `run-${name}`), manifest: { path } }));
      expect(failure.type, name).toBe('INVALID_MANIFEST');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toBe(`the manifest ${path} has no items`);
    }
    const inline = await failureOf(plan({ runDir: join(dir, 'run-inline'), items: [] }));
    expect(inline.type).toBe('INVALID_MANIFEST');
  });

  it('refuses a JSONL line with bytes that are not UTF-8, naming the byte offset, instead of sending U+FFFD', async () => {
    const dir = await tempDir();
    const path = join(dir, 'latin1.jsonl');
    const first = Buffer.from('{"id":"a","text":"fine"}\n');
    const bad = Buffer.concat([Buffer.from('{"id":"b","text":"caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]);
    await writeFile(path, Buffer.concat([first, bad, Buffer.from('{"id":"c","text":"also fine ☺"}\n')]));
    const runDir = join(dir, 'run');
    const failure = await failureOf(plan({ runDir, manifest: { path }, config: { models: { language: {} } } }));
    expect(failure.type).toBe('INVALID_MANIFEST');
    const invalid = (await readFile(join(runDir, 'invalid.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const offset = first.length + '{"id":"b","text":"caf'.length;
    expect(invalid).toEqual([{ line: 2, field: '(line)', value: expect.stringContaining('caf\uFFFD'), rule: expect.stringContaining(`not valid UTF-8`) }]);
    expect(invalid[0]?.rule).toContain(`at byte offset ${offset} of the manifest`);

    // With skipInvalid the other lines run; the bad one is never an item.
    const skipped = await plan({ runDir: join(dir, 'run-skip'), manifest: { path }, config: { models: { language: {} } }, skipInvalid: true });
    expect({ items: skipped.items, valid: skipped.validItems, invalid: skipped.invalidCount }).toEqual({ items: 3, valid: 2, invalid: 1 });
  });

  it('refuses a CSV row (and a CSV header) with bytes that are not UTF-8', async () => {
    const dir = await tempDir();
    const path = join(dir, 'bad.csv');
    const head = Buffer.from('id,text\na,fine\n');
    await writeFile(path, Buffer.concat([head, Buffer.from('b,ol'), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]));
    const result = await plan({ runDir: join(dir, 'run'), manifest: { path }, config: { models: { language: {} } }, skipInvalid: true });
    expect(result.invalid).toEqual([{ line: 3, field: '(line)', rule: expect.stringContaining(`at byte offset ${head.length + 4} of the manifest`) }]);

    const badHeader = join(dir, 'bad-header.csv');
    await writeFile(badHeader, Buffer.concat([Buffer.from('id,t'), Buffer.from([0xff]), Buffer.from('xt\na,b\n')]));
    const failure = await failureOf(plan({ runDir: join(dir, 'run-header'), manifest: { path: badHeader } }));
    expect(failure.type).toBe('INVALID_MANIFEST');
    expect(failure.message).toMatch(/the CSV header \(line 1\) is not valid UTF-8: .* byte offset 4 /);
  });

  it('accepts valid multi-byte UTF-8 and a BOM at the start unchanged', async () => {
    const dir = await tempDir();
    const path = join(dir, 'utf8.jsonl');
    await writeFile(path, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"id":"a","text":"naïve 😀 日本"}\n')]));
    const result = await plan({ runDir: join(dir, 'run'), manifest: { path }, config: { models: { language: {} } } });
    expect(result).toMatchObject({ items: 1, validItems: 1, invalidCount: 0 });
  });
});

describe('results folders no retry can fix', () => {
  it('fails planning at once (RESULTS_UNWRITABLE, path and errno) when the run folder is under a file', async () => {
    const dir = await tempDir();
    const manifest = join(dir, 'm.jsonl');
    await writeFile(manifest, '{"text":"hello"}\n');
    const file = join(dir, 'a-file');
    await writeFile(file, 'not a folder');
    const failure = await failureOf(plan({ runDir: join(file, 'run-1'), manifest: { path: manifest } }));
    expect(failure.type).toBe('RESULTS_UNWRITABLE');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(new RegExp(`^cannot write ${file}.*: ENOTDIR \\(a part of the path is a file, not a folder\\)$`));
  });

  it('store writes fail for good on ENOTDIR; EACCES, EROFS and ENOSPC map the same way; others pass through', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'jobs'), 'a file where a folder should be');
    const store = createFsStore(dir);
    const failure = await failureOf(store.writeJson('jobs/batch-1/outcome.json', { ok: true }));
    expect(failure).toMatchObject({ type: 'RESULTS_UNWRITABLE', nonRetryable: true });
    expect(failure.message).toContain('ENOTDIR');
    await mkdir(join(dir, 'ok'));
    await expect(store.writeJson('ok/x.json', 1)).resolves.toBeUndefined();

    for (const code of ['EACCES', 'EROFS', 'ENOSPC']) {
      const err = Object.assign(new Error(`${code}: open '/r/x'`), { code, path: '/r/x', syscall: 'open' });
      expect(unwritableFailure(err)).toMatchObject({ type: 'RESULTS_UNWRITABLE', nonRetryable: true, message: expect.stringMatching(new RegExp(`^cannot write /r/x: ${code} `)) });
    }
    const transient = Object.assign(new Error('EBUSY'), { code: 'EBUSY' });
    expect(unwritableFailure(transient)).toBe(transient);
  });
});
