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
/** One decoder for every record (a call without `stream` starts afresh): one per line was garbage. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A record whose bytes are not UTF-8: `offset` is the first bad byte's, in the manifest. */
export interface NotUtf8 {
  notUtf8: true;
  offset: number;
  /** The text with U+FFFD for the bad bytes: only to show the line, never to send. */
  shown: string;
}

export const isNotUtf8 = (x: string | NotUtf8): x is NotUtf8 => typeof x !== 'string';

/**
 * A record's text without its line terminator (and without a UTF-8 BOM at the file's start).
 * Decoding is fatal: a byte that is not UTF-8 refuses the line, it is never replaced by U+FFFD
 * and sent to Hume as if the manifest said so.
 */
export function recordText(record: RawRecord): string | NotUtf8 {
  const skip = record.byteStart === 0 && record.bytes.subarray(0, 3).equals(BOM) ? 3 : 0;
  const bytes = record.bytes.subarray(skip);
  try {
    return UTF8.decode(bytes).replace(/\r?\n$/, '');
  } catch {
    return { notUtf8: true, offset: record.byteStart + skip + firstInvalidUtf8(bytes), shown: bytes.toString('utf8').replace(/\r?\n$/, '') };
  }
}

/** Index of the first byte that does not start (or continue) a well-formed UTF-8 sequence. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    const len = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (len === 0 || i + len > bytes.length) return i;
    for (let j = 1; j < len; j++) if (((bytes[i + j] as number) & 0xc0) !== 0x80) return i;
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF.
    const second = bytes[i + 1] as number;
    if ((b === 0xe0 && second < 0xa0) || (b === 0xed && second > 0x9f) || (b === 0xf0 && second < 0x90) || (b === 0xf4 && second > 0x8f)) return i;
    i += len;
  }
  return bytes.length;
}
