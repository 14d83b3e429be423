/**
 * Downloads a URL source into its job's folder, md5 computed on the way, so archives can be
 * expanded and media measured from disk. Stops reading past `MAX_URL_BYTES` (1 GB): the caller
 * gets the bytes seen (over the limit) and no file, which becomes that source's per-file error.
 */
import { rm } from 'node:fs/promises';
import { request, type Dispatcher } from 'undici';
import { storeStream } from './job-files.js';
import { MAX_URL_BYTES } from './media.js';

export interface DownloadedFile {
  /** Absent when the body was over the limit (the partial file is removed). */
  path?: string;
  bytes: number;
  md5: string;
  contentType: string | null;
}

/** Throws an Error whose message is the source's error (it names the URL). */
export async function downloadToFile(
  url: string,
  path: string,
  opts: { dispatcher: Dispatcher; signal: AbortSignal; timeoutMs: number },
): Promise<DownloadedFile> {
  let res: Dispatcher.ResponseData;
  try {
    // Idle timeouts, not a total one: a 1 GB file within Hume's limits may take minutes.
    res = await request(url, { dispatcher: opts.dispatcher, signal: opts.signal, headersTimeout: opts.timeoutMs, bodyTimeout: opts.timeoutMs });
  } catch (err) {
    throw new Error(`failed to download ${url}: ${describe(err)}`);
  }
  if (res.statusCode < 200 || res.statusCode > 299) {
    res.body.resume();
    throw new Error(`failed to download ${url}: HTTP ${res.statusCode}`);
  }
  const type = res.headers['content-type'];
  const contentType = typeof type === 'string' ? type : null;
  let stored;
  try {
    stored = await storeStream(res.body, path, 'md5', MAX_URL_BYTES);
  } catch (err) {
    await rm(path, { force: true });
    throw new Error(`failed to download ${url}: ${describe(err)}`);
  }
  if (stored.truncated) {
    await rm(path, { force: true });
    return { bytes: stored.bytes, md5: '', contentType };
  }
  return { path, bytes: stored.bytes, md5: stored.digest, contentType };
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: string }).code ?? (err.cause as { code?: string } | undefined)?.code;
  return code ? `${code} ${err.message}` : err.message;
}
