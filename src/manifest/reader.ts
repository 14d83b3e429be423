/** Reads a manifest (or a batch's slice of it) as a stream of parsed records, in order, with positions. */
import type { ManifestFormat, ManifestItem } from '../schemas/batch.js';
import { frameCsvRecords, parseCsvHeader, parseCsvRow } from './csv.js';
import { parseJsonlLine } from './jsonl.js';
import { ManifestError } from './errors.js';
import { type NotUtf8, type RawRecord, type StreamStart, isNotUtf8, readLines, recordText } from './lines.js';
import { type Problem, WHOLE_LINE, problem } from './problems.js';

export type ManifestEntry =
  | { kind: 'header'; record: RawRecord; text: string }
  | { kind: 'blank'; record: RawRecord }
  | { kind: 'line'; record: RawRecord; parsed: ManifestItem | Problem };

export interface ReadOptions {
  format: ManifestFormat;
  /** Where the bytes start in the manifest. @default the file's start */
  start?: StreamStart;
  /** A CSV slice has no header of its own: the one the plan recorded. */
  csvHeader?: string;
}

export async function* readManifest(chunks: AsyncIterable<Buffer> | Iterable<Buffer>, options: ReadOptions): AsyncGenerator<ManifestEntry> {
  const lines = readLines(chunks, options.start ?? { line: 1, byte: 0 });
  if (options.format === 'jsonl') {
    for await (const record of lines) {
      const text = recordText(record);
      if (isNotUtf8(text)) yield { kind: 'line', record, parsed: notUtf8(text) };
      else yield text.trim() === '' ? { kind: 'blank', record } : { kind: 'line', record, parsed: parseJsonlLine(text) };
    }
    return;
  }
  let columns = options.csvHeader === undefined ? undefined : parseCsvHeader(options.csvHeader);
  for await (const record of frameCsvRecords(lines)) {
    const text = recordText(record);
    if (isNotUtf8(text)) {
      if (!columns) throw new ManifestError(`the CSV header (line ${record.line}) is not valid UTF-8: ${describeOffset(text)}`);
      yield { kind: 'line', record, parsed: notUtf8(text) };
    } else if (text.trim() === '') {
      yield { kind: 'blank', record };
    } else if (!columns) {
      columns = parseCsvHeader(text);
      yield { kind: 'header', record, text };
    } else {
      yield { kind: 'line', record, parsed: parseCsvRow(columns, text) };
    }
  }
}

function describeOffset(text: NotUtf8): string {
  return `a byte that is not UTF-8 at byte offset ${text.offset} of the manifest`;
}

function notUtf8(text: NotUtf8): Problem {
  return problem(WHOLE_LINE, text.shown, `not valid UTF-8: ${describeOffset(text)} (save the manifest as UTF-8)`);
}
