/** A batch's items, re-read from the manifest slice the plan recorded, as Hume request sources. */
import { ApplicationFailure } from '@temporalio/common';
import type { JobConfig } from '../hume/schemas.js';
import { itemsOfSlice, type ValidationContext } from '../manifest/index.js';
import { generatedId } from '../manifest/ids.js';
import { uploadFilename } from '../results/mapping.js';
import type { BatchRange, ItemRecord, ManifestRef } from '../schemas/batch.js';
import type { BatchSource, LocalFile } from '../schemas/humeJob.js';
import { parentLocation } from '../store/location.js';
import { createStorage, type Storage } from '../store/storage.js';
import { loadBatchItems } from './manifest.js';
import { FAILURE_TYPES } from '../workflows/definitions.js';

export function loadBatch(storage: Storage, batch: BatchSource, config: JobConfig): Promise<ItemRecord[]> {
  return loadBatchItems(batch.manifest, batch.range, {
    baseDir: parentLocation(batch.manifest.path),
    storage,
    config,
    allowedRoot: batch.allowedRoot,
  });
}

export interface JobSources {
  urls: string[];
  texts: string[];
  files: LocalFile[];
}

/** Files go up under a name unique in the batch, so their predictions map back to their items. */
export function sourcesOf(items: ItemRecord[]): JobSources {
  const sources: JobSources = { urls: [], texts: [], files: [] };
  for (const item of items) {
    if (item.kind === 'url') sources.urls.push(item.value);
    else if (item.kind === 'text') sources.texts.push(item.value);
    else sources.files.push({ path: item.value, filename: uploadFilename(item) });
  }
  return sources;
}

/**
 * For finalize: a batch's items as planned, or — when that part of the manifest changed since —
 * as its lines read now. The batch itself failed with MANIFEST_CHANGED; its lines still belong in
 * the index (failed, naming the change), and every other batch's results still get written.
 */
export async function loadItemsForIndex(manifest: ManifestRef, range: BatchRange, ctx: ValidationContext): Promise<ItemRecord[]> {
  const storage = (ctx.storage ??= createStorage());
  try {
    return await loadBatchItems(manifest, range, ctx);
  } catch (err) {
    if (!(err instanceof ApplicationFailure) || err.type !== FAILURE_TYPES.manifestChanged) throw err;
    // The bytes moved with the edit, the line numbers did not: read the batch's lines as they are now.
    const { items, invalid } = await itemsOfSlice(await readLines(storage.file(manifest.path).lines(), range.fromLine, range.toLine), manifest, { ...range, byteStart: 0 }, ctx);
    // A line no longer valid is still one of the batch's items: listed by its line.
    const lost = invalid.map((line): ItemRecord => ({ line: line.line, id: generatedId(line.line), kind: 'text', value: '', bytes: 0 }));
    const only = range.lines && new Set(range.lines);
    const all = [...items, ...lost].sort((a, b) => a.line - b.line);
    return only ? all.filter((item) => only.has(item.line)) : all;
  }
}

/** Lines `from`..`to` (1-based) of a file, each with its newline. */
async function readLines(all: AsyncIterable<string>, from: number, to: number): Promise<Buffer> {
  const lines: string[] = [];
  let n = 0;
  for await (const line of all) {
    if (++n < from) continue;
    if (n > to) break;
    lines.push(`${line}\n`);
  }
  return Buffer.from(lines.join(''));
}
