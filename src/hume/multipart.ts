/**
 * The multipart body for a local-file job: the `json` text field first (as the official TS SDK
 * sends it), then one `file` part per file carrying its filename, which Hume reports back as
 * `source.filename` and `predictions[].file`.
 *
 * Files are disk-backed Blobs (`fs.openAsBlob`): undici streams them while sending, so a 100 MB
 * upload never sits in memory. Opening them up front also fails fast, naming a missing path.
 */
import { openAsBlob } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { FormData } from 'undici';
import { HumeInvalidRequestError } from './errors.js';
import { HUME_LIMITS } from './limits.js';

export interface LocalFileInput {
  path: string;
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

export async function buildMultipartBody(call: string, files: LocalFileInput[], json: string | undefined): Promise<FormData> {
  if (files.length === 0) throw new HumeInvalidRequestError({ call, reason: 'at least one local file is required' });
  if (files.length > HUME_LIMITS.maxFilesPerJob) {
    throw new HumeInvalidRequestError({
      call,
      reason: `${files.length} local files exceed Hume's limit of ${HUME_LIMITS.maxFilesPerJob} per job`,
    });
  }
  const form = new FormData();
  if (json !== undefined) form.append('json', json);
  for (const file of files) {
    const type = file.contentType ?? CONTENT_TYPES[extname(file.path).toLowerCase()] ?? 'application/octet-stream';
    const size = await readableFileSize(call, file.path);
    if (size > HUME_LIMITS.maxLocalFileBytes) {
      throw new HumeInvalidRequestError({
        call,
        reason: `local file ${file.path} has ${size} bytes, over Hume's limit of ${HUME_LIMITS.maxLocalFileBytes}`,
      });
    }
    form.append('file', await openAsBlob(file.path, { type }), file.filename ?? basename(file.path));
  }
  return form;
}

/**
 * Size of a regular file we can read. Checked with open + fstat because `openAsBlob` reports a
 * missing file only as ERR_INVALID_ARG_VALUE and happily opens a directory.
 */
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
