/** A batch's items, re-read from the manifest slice the plan recorded, as Hume request sources. */
import { dirname } from 'node:path';
import type { JobConfig } from '../hume/schemas.js';
import { uploadFilename } from '../results/mapping.js';
import type { ItemRecord } from '../schemas/batch.js';
import type { BatchSource, LocalFile } from '../schemas/humeJob.js';
import { loadBatchItems } from './manifest.js';

export function loadBatch(batch: BatchSource, config: JobConfig): Promise<ItemRecord[]> {
  return loadBatchItems(batch.manifest, batch.range, {
    baseDir: dirname(batch.manifest.path),
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
