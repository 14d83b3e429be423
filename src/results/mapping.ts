/**
 * Which manifest item each of Hume's sources belongs to. Hume returns one result per source but
 * does not promise to keep the order across kinds, so sources are matched by what they carry:
 * the URL, the upload filename, or (texts carry nothing) their rank among the text sources.
 */
import { basename } from 'node:path';
import type { Source } from '../hume/schemas.js';
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

function sourceKey(source: Source): string | undefined {
  const named = source as { type: string; url?: unknown; filename?: unknown };
  if (named.type === 'url' && typeof named.url === 'string') return `url:${named.url}`;
  if (named.type === 'file' && typeof named.filename === 'string') return `file:${named.filename}`;
  if (named.type === 'text') return 'text';
  return undefined;
}

/**
 * Claims Hume's sources for a batch's items as they stream past: the n-th source with a key goes
 * to the n-th item with that key (duplicate URLs are consumed one by one, texts by rank).
 */
export class SourceMatcher {
  readonly #byKey = new Map<string, { items: ItemRecord[]; next: number }>();

  constructor(items: readonly ItemRecord[]) {
    for (const item of items) {
      const key = itemKey(item);
      const queue = this.#byKey.get(key);
      if (queue) queue.items.push(item);
      else this.#byKey.set(key, { items: [item], next: 0 });
    }
  }

  /** The item the next source with this shape belongs to; none when no item is left to claim it. */
  claim(source: Source): ItemRecord | undefined {
    const key = sourceKey(source);
    const queue = key === undefined ? undefined : this.#byKey.get(key);
    return queue?.items[queue.next++];
  }
}

/** What a source came back with, as far as its item's status goes. */
export interface SourceReturn {
  error?: string | null;
  hasResults: boolean;
  files: number;
  firstError?: string;
}

/** An item's status from its source (none: Hume returned no source for it). */
export function itemStatus(returned: SourceReturn | undefined): { status: 'completed' | 'failed'; error?: string } {
  if (!returned) return { status: 'failed', error: NO_RESULT };
  if (returned.error) return { status: 'failed', error: returned.error };
  if (!returned.hasResults) return { status: 'failed', error: NO_RESULT };
  // Per-file errors are results; they fail the item only when nothing else came back.
  if (returned.files === 0 && returned.firstError !== undefined) return { status: 'failed', error: returned.firstError };
  return { status: 'completed' };
}

/** A batch's outcome items, in the order of `items`, from the sources claimed for them (by line). */
export function outcomeItems(items: readonly ItemRecord[], claimed: ReadonlyMap<number, { sourceIndex: number } & SourceReturn>): BatchOutcome['items'] {
  return items.map((item) => {
    const source = claimed.get(item.line);
    return { line: item.line, id: item.id, ...(source ? { sourceIndex: source.sourceIndex } : {}), ...itemStatus(source) };
  });
}
