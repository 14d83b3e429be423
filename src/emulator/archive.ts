/**
 * Archives Hume expands (hume-batch-api.md §7.1): `.zip`, `.tar.gz`, `.tar.bz2`, `.tar.xz`, and
 * plain `.tar`. Entries are read one at a time from the file on disk, each hashed as it streams
 * by; nothing holds a whole archive or a whole entry in memory.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import unbzip2 from 'unbzip2-stream';
import xz from 'xz-decompress'; // CommonJS: Node's ESM loader sees no named exports
import yauzl from 'yauzl';
import { HEAD_BYTES } from './duration.js';

export type ArchiveFormat = 'zip' | 'tar' | 'tar.gz' | 'tar.bz2' | 'tar.xz';

/** A zip bomb stops here, with a per-file error naming the archive. */
export const ARCHIVE_LIMITS = { entries: 10_000, expandedBytes: 20 * 1024 ** 3 } as const;

/** Decided by name, then content type, then magic bytes. */
export function archiveFormat(name: string, contentType: string | null | undefined, head: Buffer): ArchiveFormat | undefined {
  const lower = name.toLowerCase();
  if (lower.endsWith('.zip')) return 'zip';
  if (/\.(tar\.gz|tgz|gz)$/.test(lower)) return 'tar.gz';
  if (/\.(tar\.bz2|tbz2?|bz2)$/.test(lower)) return 'tar.bz2';
  if (/\.(tar\.xz|txz|xz)$/.test(lower)) return 'tar.xz';
  if (lower.endsWith('.tar')) return 'tar';
  const type = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  if (/zip/.test(type) && !/gzip/.test(type)) return 'zip';
  if (/gzip/.test(type)) return 'tar.gz';
  if (/bzip2/.test(type)) return 'tar.bz2';
  if (/x-xz/.test(type)) return 'tar.xz';
  if (/x-tar/.test(type)) return 'tar';
  if (head.length >= 4 && head.readUInt32BE(0) === 0x504b0304) return 'zip';
  if (head.length >= 4 && head.readUInt32BE(0) === 0x504b0506) return 'zip'; // empty zip
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'tar.gz';
  if (head.toString('latin1', 0, 3) === 'BZh') return 'tar.bz2';
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'tar.xz';
  if (head.toString('latin1', 257, 262) === 'ustar') return 'tar';
  return undefined;
}

/** A file inside an archive, read through once. */
export interface ArchiveEntry {
  /** Path inside the archive, `./` prefix dropped. */
  name: string;
  /** Why the entry is not read: its path escapes the archive, or it is not a regular file. */
  refused?: string;
  md5: string;
  bytes: number;
  /** Its first HEAD_BYTES, to measure a WAV's length. */
  head: Buffer;
  /** Where its bytes were copied, when `keep` asked for them. */
  copy?: string;
}

export interface ReadOptions {
  /** Which entries to copy to disk (texts, to tokenise), and where. */
  keep: (name: string) => string | undefined;
}

/** Thrown for a corrupt, truncated or oversized archive: the message names the archive. */
export class ArchiveError extends Error {
  override readonly name = 'ArchiveError';
}

/** Entries in archive order; directories skipped. Errors from the archive itself are ArchiveErrors. */
export async function* readArchive(path: string, file: string, format: ArchiveFormat, opts: ReadOptions): AsyncGenerator<ArchiveEntry> {
  let entries = 0;
  let expanded = 0;
  const count = (bytes: number): void => {
    expanded += bytes;
    if (expanded > ARCHIVE_LIMITS.expandedBytes) {
      throw new ArchiveError(`${file}: expands to more than ${ARCHIVE_LIMITS.expandedBytes / 1024 ** 3} GB; the emulator stops there`);
    }
  };
  const raw = format === 'zip' ? zipEntries(path) : tarEntries(path, format);
  try {
    for await (const { name: rawName, kind, stream } of raw) {
      const name = rawName.replace(/^(\.\/)+/, '');
      if (kind === 'directory' || name === '') {
        stream?.resume();
        continue;
      }
      if (++entries > ARCHIVE_LIMITS.entries) {
        throw new ArchiveError(`${file}: more than ${ARCHIVE_LIMITS.entries} entries; the emulator stops there`);
      }
      const refused = escapes(name) ? 'refused: path escapes the archive' : kind !== 'file' ? 'refused: not a regular file' : undefined;
      if (refused || !stream) {
        stream?.resume();
        yield { name, refused: refused ?? 'refused: not a regular file', md5: '', bytes: 0, head: Buffer.alloc(0) };
        continue;
      }
      yield await digest(name, stream, opts.keep(name), count);
    }
  } catch (err) {
    if (err instanceof ArchiveError) throw err;
    throw new ArchiveError(`${file}: corrupt or truncated archive (${(err as Error).message})`);
  }
}

/** `..` segments, absolute paths and drive letters would land outside a folder it is unpacked in. */
export function escapes(name: string): boolean {
  return /^[\\/]/.test(name) || /^[a-zA-Z]:/.test(name) || name.split(/[\\/]/).includes('..');
}

async function digest(name: string, stream: EntryStream, copy: string | undefined, count: (bytes: number) => void): Promise<ArchiveEntry> {
  const md5 = createHash('md5');
  const head: Buffer[] = [];
  let headLength = 0;
  let bytes = 0;
  const sink: Writable | undefined = copy ? createWriteStream(copy) : undefined;
  const through = async function* (source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      bytes += chunk.length;
      count(chunk.length);
      md5.update(chunk);
      if (headLength < HEAD_BYTES) {
        head.push(chunk.subarray(0, HEAD_BYTES - headLength));
        headLength += Math.min(chunk.length, HEAD_BYTES - headLength);
      }
      if (sink) yield chunk;
    }
  };
  try {
    if (sink) await pipeline(stream, through, sink);
    else for await (const _ of through(stream)) { /* consumed for the hash */ }
  } catch (err) {
    // A cap or corruption met mid-entry: its copy is of no use, and a kept `dataDir` would keep it.
    if (copy) await rm(copy, { force: true });
    throw err;
  }
  return { name, md5: md5.digest('hex'), bytes, head: Buffer.concat(head), ...(copy ? { copy } : {}) };
}

/** Node streams from yauzl, streamx streams from tar-stream: both iterate as Buffers. */
type EntryStream = AsyncIterable<Buffer> & { resume(): unknown };
interface RawEntry { name: string; kind: 'file' | 'directory' | 'other'; stream?: EntryStream }

async function* tarEntries(path: string, format: Exclude<ArchiveFormat, 'zip'>): AsyncGenerator<RawEntry> {
  const file = createReadStream(path);
  const decompressed: Readable =
    format === 'tar.gz' ? file.pipe(createGunzip())
    : format === 'tar.bz2' ? file.pipe(unbzip2() as unknown as NodeJS.WritableStream) as unknown as Readable
    : format === 'tar.xz' ? Readable.fromWeb(new xz.XzReadableStream(Readable.toWeb(file) as ReadableStream<Uint8Array>) as import('node:stream/web').ReadableStream)
    : file;
  const extract = tar.extract();
  // Errors anywhere upstream end the entry loop with that error.
  for (const s of new Set([file, decompressed])) s.on('error', (err: Error) => extract.destroy(err));
  decompressed.pipe(extract);
  try {
    for await (const entry of extract) {
      const type = entry.header.type;
      yield { name: entry.header.name, kind: type === 'file' || type === 'contiguous-file' ? 'file' : type === 'directory' ? 'directory' : 'other', stream: entry as EntryStream }; // tar-stream's entries yield Buffers, typed `unknown`
      entry.resume(); // in case the consumer left it unread
    }
  } finally {
    file.destroy();
    decompressed.destroy();
  }
}

async function* zipEntries(path: string): AsyncGenerator<RawEntry> {
  // Names are decoded here, not by yauzl, which would fail the whole archive on one `../` entry.
  const zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true });
  try {
    for await (const entry of zip.eachEntry()) {
      const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, false);
      if (name.endsWith('/')) {
        yield { name, kind: 'directory' };
        continue;
      }
      // Unix mode in the high bits of the external attributes: symlinks and the like are not files.
      const mode = (entry.externalFileAttributes >>> 16) & 0o170000;
      if (mode !== 0 && mode !== 0o100000) {
        yield { name, kind: 'other' };
        continue;
      }
      yield { name, kind: 'file', stream: await zip.openReadStreamPromise(entry) };
    }
  } finally {
    zip.close();
  }
}
