/**
 * Archives as Hume documents them, through a whole run: a `.zip` by URL, a local `.tar.gz` and a
 * local `.tar.xz`, each holding images and audio, give CSV rows per file inside (with the item's
 * id and the inner path) and index rows saying how many files each held and how many were predicted.
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZipFile } from 'yazl';
import { startRun } from '../../src/client.js';
import { type Stack, startStack } from '../helpers/hume-stack.js';
import { serveFolder } from '../helpers/manifests.js';
import { uniqueId } from '../helpers/temporal.js';

/** What each archive holds: two images in a folder and a recording beside them. */
const INSIDE = ['faces/a.jpg', 'faces/b.png', 'talk.wav'] as const;

async function writeTree(root: string, tag: string): Promise<void> {
  for (const name of INSIDE) {
    await mkdir(join(root, name, '..'), { recursive: true });
    await writeFile(join(root, name), `${tag} ${name}`);
  }
}

async function writeZip(path: string, root: string): Promise<void> {
  const zip = new ZipFile();
  for (const name of INSIDE) zip.addFile(join(root, name), name);
  zip.end();
  await finished(zip.outputStream.pipe(createWriteStream(path)));
}

describe('archives through a run', () => {
  let stack: Stack;
  let media: Awaited<ReturnType<typeof serveFolder>>;
  let dir: string;

  beforeAll(async () => {
    stack = await startStack({ emulator: { timing: { queuedMs: [10, 30], processingMs: [20, 60] } } });
    dir = mkdtempSync(join(tmpdir(), 'archives-'));
    media = await serveFolder(join(dir, 'served'));
  });
  afterAll(async () => {
    await media?.close();
    await stack?.close();
  });

  it('predicts every media file inside a .zip URL, a local .tar.gz and a local .tar.xz', async () => {
    for (const tag of ['zip', 'gz', 'xz']) await writeTree(join(dir, `tree-${tag}`), tag);
    await mkdir(join(dir, 'served'), { recursive: true });
    await writeZip(join(dir, 'served', 'faces.zip'), join(dir, 'tree-zip'));
    execFileSync('tar', ['-czf', join(dir, 'local.tar.gz'), '-C', join(dir, 'tree-gz'), ...INSIDE]);
    execFileSync('tar', ['-cJf', join(dir, 'local.tar.xz'), '-C', join(dir, 'tree-xz'), ...INSIDE]);
    const manifest = join(dir, 'manifest.jsonl');
    const items = [
      { id: 'zip-by-url', url: `${media.url}/faces.zip` },
      { id: 'local-gz', file: 'local.tar.gz' },
      { id: 'local-xz', file: 'local.tar.xz' },
    ];
    await writeFile(manifest, `${items.map((item) => JSON.stringify(item)).join('\n')}\n`);

    const run = await startRun(
      stack.temporal.client,
      { runId: uniqueId('archives'), outDir: join(dir, 'out'), manifest: { path: manifest }, config: { models: { face: {}, prosody: {} } } },
      { taskQueue: stack.temporal.taskQueue },
    );
    const result = await run.result();
    expect(result.summary.items).toMatchObject({ completed: 3, failed: 0 });

    const index = (await readFile(join(result.runDir, 'index.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
    expect(index.map((row) => [row.id, row.status, row.files, row.predicted_files])).toEqual([
      ['zip-by-url', 'completed', 3, 3],
      ['local-gz', 'completed', 3, 3],
      ['local-xz', 'completed', 3, 3],
    ]);

    const rowsOf = async (model: string) =>
      parse(await readFile(join(result.runDir, 'csv', `${model}.csv`)), { columns: true }) as Array<Record<string, string>>;
    const inner = (rows: Array<Record<string, string>>) => [...new Set(rows.map((row) => `${row.item_id} ${row.source_inner_path}`))].sort();
    expect(inner(await rowsOf('face'))).toEqual(
      items.flatMap(({ id }) => [`${id} faces/a.jpg`, `${id} faces/b.png`]).sort(),
    );
    expect(inner(await rowsOf('prosody'))).toEqual(items.map(({ id }) => `${id} talk.wav`).sort());
  });
});
