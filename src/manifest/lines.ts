/**
 * Splits a byte stream into physical lines, keeping each line's bytes and its position in the
 * file: batches are byte ranges of the manifest, so positions must be exact, and bytes (not
 * decoded text) are what the slice hashes cover.
 */
import { HUME_LIMITS } from '../hume/limits.js';
import { ManifestError } from './errors.js';

/** A line (or, for CSV, a record spanning lines) with its place in the manifest. */
export interface RawRecord {
  /** 1-based first line. */
  line: number;
  /** Last line (differs from `line` for CSV records with quoted newlines). */
  endLine: number;
  /** Byte offsets [byteStart, byteEnd), the terminating newline included. */
  byteStart: number;
  byteEnd: number;
  bytes: Buffer;
}

/** Where a stream starts in the manifest: the whole file, or a batch's slice. */
export interface StreamStart {
  line: number;
  byte: number;
}

const NEWLINE = 0x0a;

/**
 * No line may exceed the longest valid text plus room for its JSON or CSV wrapping. Without a
 * cap, a file without newlines (or a CSV with an unbalanced quote) would be buffered whole.
 */
export const MAX_RECORD_BYTES = HUME_LIMITS.maxTextBytes + 1024 * 1024;

export function tooLong(line: number): ManifestError {
  return new ManifestError(
    `line ${line} is longer than ${MAX_RECORD_BYTES} bytes (the text limit plus 1 MiB); is a newline missing or a CSV quote unbalanced?`,
  );
}

export async function* readLines(chunks: AsyncIterable<Buffer> | Iterable<Buffer>, start: StreamStart): AsyncGenerator<RawRecord> {
  let line = start.line;
  let byteStart = start.byte;
  let parts: Buffer[] = [];
  let pending = 0;
  for await (const chunk of chunks) {
    let from = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, from)) {
      parts.push(chunk.subarray(from, nl + 1));
      const bytes = Buffer.concat(parts, pending + nl + 1 - from);
      if (bytes.length > MAX_RECORD_BYTES) throw tooLong(line);
      yield { line, endLine: line, byteStart, byteEnd: byteStart + bytes.length, bytes };
      line++;
      byteStart += bytes.length;
      parts = [];
      pending = 0;
      from = nl + 1;
    }
    if (from < chunk.length) {
      // Copied: the reader may reuse the chunk's memory.
      parts.push(Buffer.from(chunk.subarray(from)));
      pending += chunk.length - from;
      if (pending > MAX_RECORD_BYTES) throw tooLong(line);
    }
  }
  if (pending > 0) {
    const bytes = Buffer.concat(parts, pending);
    yield { line, endLine: line, byteStart, byteEnd: byteStart + bytes.length, bytes };
  }
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** A record's text without its line terminator (and without a UTF-8 BOM at the file's start). */
export function recordText(record: RawRecord): string {
  const skip = record.byteStart === 0 && record.bytes.subarray(0, 3).equals(BOM) ? 3 : 0;
  return record.bytes.toString('utf8', skip).replace(/\r?\n$/, '');
}
