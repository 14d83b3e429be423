/**
 * CSV manifests: records are framed by quote parity (a newline inside quotes does not end a
 * record), so each record keeps exact byte offsets for batching; csv-parse splits the fields.
 */
import { parse } from 'csv-parse/sync';
import type { ManifestItem } from '../schemas/batch.js';
import { ManifestError } from './errors.js';
import { MAX_RECORD_BYTES, type RawRecord, tooLong } from './lines.js';
import { type Problem, WHOLE_LINE, problem } from './problems.js';

const QUOTE = 0x22;
const SOURCE_COLUMNS = ['url', 'file', 'text'];

/** Joins physical lines into CSV records: an odd number of quotes so far means the record goes on. */
export async function* frameCsvRecords(lines: AsyncIterable<RawRecord>): AsyncGenerator<RawRecord> {
  let open: RawRecord | undefined;
  let parts: Buffer[] = [];
  let quotes = 0;
  for await (const line of lines) {
    open ??= { ...line };
    open.endLine = line.endLine;
    open.byteEnd = line.byteEnd;
    if (open.byteEnd - open.byteStart > MAX_RECORD_BYTES) throw tooLong(open.line);
    parts.push(line.bytes);
    quotes += countQuotes(line.bytes);
    if (quotes % 2 === 0) {
      yield { ...open, bytes: parts.length === 1 ? line.bytes : Buffer.concat(parts) };
      open = undefined;
      parts = [];
      quotes = 0;
    }
  }
  // An unbalanced quote at the end: csv-parse reports it on the record.
  if (open) yield { ...open, bytes: Buffer.concat(parts) };
}

function countQuotes(bytes: Buffer): number {
  let n = 0;
  for (let i = bytes.indexOf(QUOTE); i !== -1; i = bytes.indexOf(QUOTE, i + 1)) n++;
  return n;
}

/** Parses one CSV record's text into its cells; throws csv-parse's error for malformed CSV. */
function cells(text: string): string[] {
  const rows = parse(text, { relax_column_count: true }) as string[][];
  if (rows.length !== 1 || !rows[0]) throw new Error(`expected one record, found ${rows.length}`);
  return rows[0];
}

/** The header's column names; refuses a header no item could be read with. */
export function parseCsvHeader(text: string): string[] {
  let columns: string[];
  try {
    columns = cells(text).map((c) => c.trim());
  } catch (err) {
    throw new ManifestError(`the CSV header is not valid CSV: ${(err as Error).message}`);
  }
  if (!columns.some((c) => SOURCE_COLUMNS.includes(c))) {
    throw new ManifestError(`the CSV header (${text.slice(0, 200)}) needs at least one of the columns url, file, text`);
  }
  const repeated = columns.find((c, i) => columns.indexOf(c) !== i);
  if (repeated !== undefined) throw new ManifestError(`the CSV header repeats the column "${repeated}"`);
  return columns;
}

/** A CSV row as a manifest item: id/url/file/text columns by name, the others as metadata. Empty cells are absent. */
export function parseCsvRow(columns: string[], text: string): ManifestItem | Problem {
  let row: string[];
  try {
    row = cells(text);
  } catch (err) {
    return problem(WHOLE_LINE, text, `not valid CSV (${(err as Error).message})`);
  }
  if (row.length !== columns.length) {
    return problem(WHOLE_LINE, text, `the row has ${row.length} fields, the header has ${columns.length}`);
  }
  const item: ManifestItem = {};
  const metadata: Record<string, string> = {};
  columns.forEach((column, i) => {
    const cell = row[i];
    if (!cell) return;
    if (column === 'id' || column === 'url' || column === 'file' || column === 'text') item[column] = cell;
    else metadata[column] = cell;
  });
  if (Object.keys(metadata).length > 0) item.metadata = metadata;
  return item;
}
