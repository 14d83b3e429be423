/**
 * Lines of `index.jsonl`: one per manifest item, valid or not, flat so it joins as it is:
 * `id, line, source_type, source | text_chars, batch, job_id, status, error?, files?, predicted_files?,
 * metadata?`; `files` and `predicted_files` only for an archive (a source holding several files).
 * `source` is the URL or the absolute file path; texts are never copied (they may be private or
 * huge): a text item shows its length in `text_chars` instead. `metadata` is the item's, as the
 * manifest gave it. An invalid line has only `line, status, error`. Keys are built in a fixed
 * order so the file is byte-identical on every finalize.
 */
import type { BatchOutcome, BatchRange, InvalidLineRef, ItemRecord, SourceKind } from '../schemas/batch.js';
import { NO_RESULT } from './mapping.js';

export type IndexStatus = 'completed' | 'failed' | 'not_run' | 'invalid';

export type IndexSource =
  | { source_type: 'url' | 'file'; source: string }
  | { source_type: 'text'; text_chars: number };

export interface IndexEntry {
  id?: string;
  line: number;
  source_type?: SourceKind;
  /** The URL or the absolute file path. */
  source?: string;
  /** A text's length in code points (texts are not copied). */
  text_chars?: number;
  batch?: number;
  job_id?: string | null;
  status: IndexStatus;
  error?: string;
  /** For an archive: the files Hume reported in it (predicted or failed)… */
  files?: number;
  /** …and those of them with predictions. */
  predicted_files?: number;
  metadata?: Record<string, unknown>;
}

/** An archive item's file counts, from its job's shard. */
export interface ArchiveCounts {
  files?: number;
  predictedFiles?: number;
}

/** Characters as Hume counts text positions: code points, not UTF-16 units. */
function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function sourceOf(item: ItemRecord): IndexSource {
  if (item.kind === 'text') return { source_type: 'text', text_chars: codePoints(item.value) };
  return { source_type: item.kind, source: item.value };
}

/** An outcome with its items by line, looked up once per item. */
export interface ChosenOutcome {
  outcome: BatchOutcome;
  item?: BatchOutcome['items'][number];
}

/**
 * Which outcome speaks for each item: one that completed it, else one that lists it, else the
 * batch's first (a failure for all its items). None: the batch never ran.
 */
export function chooseOutcomes(items: ItemRecord[], outcomes: BatchOutcome[]): Map<number, ChosenOutcome | undefined> {
  const byLine = outcomes.map((outcome) => ({ outcome, items: new Map(outcome.items.map((i) => [i.line, i])) }));
  const chosen = new Map<number, ChosenOutcome | undefined>();
  for (const { line } of items) {
    const listing = byLine.filter((o) => o.items.has(line));
    const pick = listing.find((o) => o.items.get(line)?.status === 'completed') ?? listing[0];
    chosen.set(line, pick ? { outcome: pick.outcome, item: pick.items.get(line) } : outcomes[0] && { outcome: outcomes[0] });
  }
  return chosen;
}

/** A batch's items as the index lists them, each as the outcome `chooseOutcomes` picked says. */
export function itemEntries(
  range: BatchRange,
  items: ItemRecord[],
  chosen: Map<number, ChosenOutcome | undefined>,
  archive: (line: number, outcome: BatchOutcome) => ArchiveCounts | undefined = () => undefined,
): IndexEntry[] {
  return items.map((item) => {
    const pick = chosen.get(item.line);
    const entry: IndexEntry = {
      id: item.id, line: item.line, ...sourceOf(item), batch: range.index, job_id: pick?.outcome.jobId ?? null, status: 'not_run',
    };
    if (pick) {
      entry.status = pick.item?.status ?? 'failed';
      const error = pick.item?.error ?? (entry.status === 'failed' ? (pick.outcome.error ?? NO_RESULT) : undefined);
      if (error !== undefined) entry.error = error;
      const counts = archive(item.line, pick.outcome);
      if (counts?.files !== undefined) entry.files = counts.files;
      if (counts?.predictedFiles !== undefined) entry.predicted_files = counts.predictedFiles;
    }
    if (item.metadata) entry.metadata = item.metadata;
    return entry;
  });
}

export function invalidEntry(invalid: InvalidLineRef): IndexEntry {
  return { line: invalid.line, status: 'invalid', error: `${invalid.field}: ${invalid.rule}` };
}
