/**
 * CSV manifests: records are framed here (a newline inside a quoted field does not end a record)
 * so each record keeps exact byte offsets for batching; csv-parse then splits its fields.
 */
import { parse } from 'csv-parse/sync';
import type { ManifestItem } from '../schemas/batch.js';
import { ManifestError } from './errors.js';
import { MAX_RECORD_BYTES, type RawRecord, tooLong } from './lines.js';
import { type Problem, WHOLE_LINE, problem } from './problems.js';

const QUOTE = 0x22;
const COMMA = 0x2c;
const SOURCE_COLUMNS = ['url', 'file', 'text'];

/**
 * Tracks whether a record's quoted field is still open at a line's end. A quote opens a field
 * only at the field's start (as csv-parse reads it), so a stray quote inside an unquoted field
 * spoils that one row, not every row after it; `""` inside quotes is an escaped quote.
 */
class QuoteState {
  #inQuotes = false;
  #fieldStart = true;
  #justClosed = false;

  /** Scans one line; true when the record ends with it. */
  endsRecord(line: Buffer): boolean {
    if (!this.#inQuotes && line.indexOf(QUOTE) === -1) return this.#reset();
    for (const byte of line) {
      if (byte === QUOTE) {
        if (this.#inQuotes) [this.#inQuotes, this.#justClosed] = [false, true];
        else if (this.#fieldStart || this.#justClosed) [this.#inQuotes, this.#justClosed] = [true, false];
        this.#fieldStart = false;
      } else if (!this.#inQuotes) {
        this.#fieldStart = byte === COMMA;
        this.#justClosed = false;
      }
    }
    return this.#inQuotes ? false : this.#reset();
  }

  #reset(): true {
    this.#fieldStart = true;
    this.#justClosed = false;
    return true;
  }
}

/** Joins physical lines into CSV records. */
export async function* frameCsvRecords(lines: AsyncIterable<RawRecord>): AsyncGenerator<RawRecord> {
  const quotes = new QuoteState();
  let open: RawRecord | undefined;
  let parts: Buffer[] = [];
  for await (const line of lines) {
    open ??= { ...line };
    open.endLine = line.endLine;
    open.byteEnd = line.byteEnd;
    if (open.byteEnd - open.byteStart > MAX_RECORD_BYTES) throw tooLong(open.line);
    parts.push(line.bytes);
    if (quotes.endsRecord(line.bytes)) {
      yield { ...open, bytes: parts.length === 1 ? line.bytes : Buffer.concat(parts) };
      open = undefined;
      parts = [];
    }
  }
  // A quote still open at the end: csv-parse reports it on the record.
  if (open) yield { ...open, bytes: Buffer.concat(parts) };
}

/** Parses one CSV record's text into its cells; throws csv-parse's error for malformed CSV. */
function cells(text: string): string[] {
  const rows = parse(text) as string[][];
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
