/**
 * A failed read of a manifest or a media file, from a local disk or S3: whether a retry could
 * help, and why it failed in a few words. A missing file, a permission or a refused credential
 * stays refused; a dropped connection or a 503 mid-stream is worth another activity attempt,
 * so it must not become a permanent refusal of a run or a batch.
 */
import { isNotFound, unfixableCause } from './s3-errors.js';

/** Errno codes of local reads that no retry changes. */
const PERMANENT_ERRNO = new Set(['ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'ELOOP', 'ENAMETOOLONG']);

export function isPermanentReadFailure(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return (code !== undefined && PERMANENT_ERRNO.has(code)) || isNotFound(err) || unfixableCause(err) !== undefined;
}

/** Why a read failed: what an S3 refusal means, an errno code, an S3 error's name, else the message. */
export function readFailure(err: unknown): string {
  const { code, name, message } = err as NodeJS.ErrnoException;
  return unfixableCause(err) ?? code ?? (name && name !== 'Error' ? name : message);
}
