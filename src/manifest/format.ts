/** Which reader a manifest needs, from its file extension. */
import { extname } from 'node:path';
import type { ManifestFormat } from '../schemas/batch.js';
import { ManifestError } from './errors.js';

const BY_EXTENSION: Record<string, ManifestFormat> = { '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.json': 'jsonl', '.csv': 'csv' };

export function detectFormat(path: string): ManifestFormat {
  const format = BY_EXTENSION[extname(path).toLowerCase()];
  if (!format) {
    throw new ManifestError(`cannot tell the format of manifest ${path}: name it .jsonl, .ndjson, .json or .csv, or give the format`);
  }
  return format;
}
