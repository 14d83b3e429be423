/**
 * The multipart body for a local-file job: the `json` text field first (as the official TS SDK
 * sends it), then one `file` part per file carrying its filename, which Hume reports back as
 * `source.filename` and `predictions[].file`.
 *
 * Encoded here rather than by undici's FormData so that the body has a known length and its bytes
 * can be counted as they leave (the upload's idle timer and progress): a `RequestBody` of the
 * part headers as Buffers and each file read from disk while sending, so a 100 MB upload never
 * sits in memory. Every file is checked up front, so a missing path fails before anything is sent.
 */
import { randomUUID } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { HumeInvalidRequestError } from './errors.js';
import { HUME_LIMITS } from './limits.js';
import { RequestBody, type BodyPart, type FileSource } from './request-body.js';

export interface LocalFileInput {
  /** A path on this machine's disk; with `source`, only the name for the upload and its type. */
  path: string;
  /** The bytes, when they are not read from `path` (a file streamed from S3). */
  source?: FileSource;
  /** Name Hume sees and reports back. @default basename of `path` */
  filename?: string;
  /** @default guessed from the extension, else `application/octet-stream` */
  contentType?: string;
}

/** Common media types by extension, so Hume's echoed `content_type` is meaningful. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.wav': 'audio/wav', '.mp3': 'audio/mpeg', '.m4a': 'audio/mp4', '.flac': 'audio/flac', '.ogg': 'audio/ogg',
  '.mp4': 'video/mp4', '.mov': 'video/quicktime', '.webm': 'video/webm',
  '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png', '.gif': 'image/gif',
  '.txt': 'text/plain', '.zip': 'application/zip', '.gz': 'application/gzip',
};

export async function buildMultipartBody(call: string, files: LocalFileInput[], json: string | undefined): Promise<RequestBody> {
  if (files.length === 0) throw new HumeInvalidRequestError({ call, reason: 'at least one local file is required' });
  if (files.length > HUME_LIMITS.maxFilesPerJob) {
    throw new HumeInvalidRequestError({
      call,
      reason: `${files.length} local files exceed Hume's limit of ${HUME_LIMITS.maxFilesPerJob} per job`,
    });
  }
  const boundary = `----temporal-hume-${randomUUID()}`;
  const parts: BodyPart[] = [];
  const header = (disposition: string, type?: string) =>
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; ${disposition}\r\n${type ? `Content-Type: ${type}\r\n` : ''}\r\n`);
  if (json !== undefined) parts.push(header('name="json"'), Buffer.from(json), CRLF);
  for (const file of files) {
    const type = file.contentType ?? CONTENT_TYPES[extname(file.path).toLowerCase()] ?? 'application/octet-stream';
    const size = file.source ? file.source.bytes : await readableFileSize(call, file.path);
    if (size > HUME_LIMITS.maxLocalFileBytes) {
      throw new HumeInvalidRequestError({
        call,
        reason: `local file ${file.path} has ${size} bytes, over Hume's limit of ${HUME_LIMITS.maxLocalFileBytes}`,
      });
    }
    const filename = escapeQuoted(file.filename ?? basename(file.path));
    parts.push(header(`name="file"; filename="${filename}"`, type), file.source ?? { path: file.path, bytes: size }, CRLF);
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return new RequestBody(`multipart/form-data; boundary=${boundary}`, parts);
}

const CRLF = Buffer.from('\r\n');

/** A quoted header parameter escaped as browsers and undici's FormData do (WHATWG HTML). */
const escapeQuoted = (name: string) => name.replace(/\n/g, '%0A').replace(/\r/g, '%0D').replace(/"/g, '%22');

/** Size of a regular file we can read (a directory opens too, so it is checked with fstat). */
async function readableFileSize(call: string, path: string): Promise<number> {
  const fail = (why: string, error?: unknown) =>
    new HumeInvalidRequestError({ call, reason: `cannot read local file ${path}: ${why}`, error });
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw fail((e as NodeJS.ErrnoException).code ?? String(e), e);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw fail('not a regular file');
    return stats.size;
  } finally {
    await handle.close();
  }
}
