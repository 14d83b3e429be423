/**
 * Lines of `index.jsonl`: one per manifest item, valid or not. Texts are never copied (they may
 * be private or huge): a text item shows its length. Keys are built in a fixed order so the
 * file is byte-identical on every finalize.
 */
import type { BatchOutcome, BatchRange, InvalidLine, ItemRecord } from '../schemas/batch.js';
import { NO_RESULT } from './mapping.js';

export type IndexStatus = 'completed' | 'failed' | 'not_run' | 'invalid';

export type IndexSource =
  | { type: 'url'; url: string }
  | { type: 'file'; file: string }
  | { type: 'text'; text_chars: number };

export interface IndexEntry {
  id?: string;
  line: number;
  source?: IndexSource;
  batch?: number;
  job_id?: string | null;
  status: IndexStatus;
  error?: string;
}

/** Characters as Hume counts text positions: code points, not UTF-16 units. */
function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function sourceOf(item: ItemRecord): IndexSource {
  if (item.kind === 'url') return { type: 'url', url: item.value };
  if (item.kind === 'file') return { type: 'file', file: item.value };
  return { type: 'text', text_chars: codePoints(item.value) };
}

/** A batch's items as the index lists them; without an outcome the batch never ran. */
export function itemEntries(range: BatchRange, items: ItemRecord[], outcome: BatchOutcome | undefined): IndexEntry[] {
  const byLine = new Map(outcome?.items.map((i) => [i.line, i]));
  return items.map((item) => {
    const entry: IndexEntry = {
      id: item.id, line: item.line, source: sourceOf(item), batch: range.index, job_id: outcome?.jobId ?? null, status: 'not_run',
    };
    if (!outcome) return entry;
    const result = byLine.get(item.line);
    entry.status = result?.status ?? 'failed';
    const error = result?.error ?? (entry.status === 'failed' ? (outcome.error ?? NO_RESULT) : undefined);
    if (error !== undefined) entry.error = error;
    return entry;
  });
}

export function invalidEntry(invalid: InvalidLine): IndexEntry {
  return { line: invalid.line, status: 'invalid', error: `${invalid.field}: ${invalid.rule}` };
}
