/**
 * Which manifest item each of Hume's sources belongs to. Hume returns one result per source but
 * does not promise to keep the order across kinds, so sources are matched by what they carry:
 * the URL, the upload filename, or (texts carry nothing) their rank among the text sources.
 */
import { basename } from 'node:path';
import type { PredictionsOutline } from '../hume/schemas.js';
import type { BatchOutcome, ItemRecord } from '../schemas/batch.js';

export const NO_RESULT = 'no result from Hume';

/** The multipart filename a file item is uploaded under: the line makes it unique within a batch. */
export function uploadFilename(item: ItemRecord): string {
  return `${item.line}-${basename(item.value)}`;
}

const ARCHIVE = /\.(zip|tar|tgz|tbz2?|txz|gz|bz2|xz)$/i;

/**
 * The file inside an archive source a prediction is for (Hume names it in the prediction's
 * `file`), or '' when the prediction is for the source itself. A local file's own predictions
 * carry its upload filename, so any other name is a file inside it; a URL's carry a name Hume
 * derives from the URL, so only a URL whose path ends like an archive (.zip, .tar.gz, …) is read
 * as one. Texts have no inside.
 */
export function sourceInnerPath(item: ItemRecord, file: string): string {
  if (item.kind === 'file') return file === uploadFilename(item) ? '' : file;
  if (item.kind === 'url') return ARCHIVE.test(urlPath(item.value)) ? file : '';
  return '';
}

function urlPath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}

/** The key an item and its source share; every text has the same key, so texts match by rank. */
function itemKey(item: ItemRecord): string {
  if (item.kind === 'url') return `url:${item.value}`;
  if (item.kind === 'file') return `file:${uploadFilename(item)}`;
  return 'text';
}

function sourceKey(result: PredictionsOutline[number]): string | undefined {
  const source = result.source as { type: string; url?: unknown; filename?: unknown };
  if (source.type === 'url' && typeof source.url === 'string') return `url:${source.url}`;
  if (source.type === 'file' && typeof source.filename === 'string') return `file:${source.filename}`;
  if (source.type === 'text') return 'text';
  return undefined;
}

/** Each item's source and status, in the order of `items`. */
export function mapSourcesToItems(predictions: PredictionsOutline, items: ItemRecord[]): BatchOutcome['items'] {
  // Sources per key in the order Hume gave them; items consume them one by one (duplicate URLs).
  const queues = new Map<string, number[]>();
  predictions.forEach((result, index) => {
    const key = sourceKey(result);
    if (key === undefined) return;
    const queue = queues.get(key);
    if (queue) queue.push(index);
    else queues.set(key, [index]);
  });

  return items.map((item) => {
    const sourceIndex = queues.get(itemKey(item))?.shift();
    const base = { line: item.line, id: item.id };
    const result = sourceIndex === undefined ? undefined : predictions[sourceIndex];
    if (sourceIndex === undefined || !result) return { ...base, status: 'failed', error: NO_RESULT };
    if (result.error) return { ...base, sourceIndex, status: 'failed', error: result.error };
    if (!result.results) return { ...base, sourceIndex, status: 'failed', error: NO_RESULT };
    // Per-file errors are results; they fail the item only when nothing else came back.
    const firstError = result.results.errors[0];
    if (result.results.predictions.length === 0 && firstError) {
      return { ...base, sourceIndex, status: 'failed', error: firstError.message };
    }
    return { ...base, sourceIndex, status: 'completed' };
  });
}
