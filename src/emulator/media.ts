/**
 * What a source is: its media kind (from extension, then content type) and, for URLs, its bytes.
 * Loopback URLs are really downloaded so tests can serve media; other hosts are unreachable in a
 * sandbox, so by default their content is derived from the URL string (see `fetchUrls`).
 */
import { createHash } from 'node:crypto';
import { request, type Dispatcher } from 'undici';

export type MediaKind = 'image' | 'audio' | 'video' | 'text' | 'archive' | 'unknown';

/** Files reached by URL may be up to 1 GB (hume-batch-api.md §7.1). */
export const MAX_URL_BYTES = 1024 * 1024 * 1024;

const EXTENSIONS: Record<string, MediaKind> = {
  jpg: 'image', jpeg: 'image', png: 'image', gif: 'image', bmp: 'image', webp: 'image', tif: 'image', tiff: 'image', heic: 'image',
  wav: 'audio', mp3: 'audio', m4a: 'audio', aac: 'audio', flac: 'audio', ogg: 'audio', opus: 'audio', wma: 'audio',
  mp4: 'video', mov: 'video', avi: 'video', mkv: 'video', webm: 'video', m4v: 'video', wmv: 'video', '3gp': 'video',
  txt: 'text', text: 'text', md: 'text',
  zip: 'archive', gz: 'archive', bz2: 'archive', xz: 'archive', tar: 'archive',
};

export function mediaKind(name: string, contentType?: string | null): MediaKind {
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase();
  const byExt = ext ? EXTENSIONS[ext] : undefined;
  if (byExt) return byExt;
  const type = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  const major = type.split('/')[0];
  if (major === 'image' || major === 'audio' || major === 'video' || major === 'text') return major;
  if (/zip|tar|gzip|x-bzip2|x-xz/.test(type)) return 'archive';
  return 'unknown';
}

/** The file name Hume reports for a URL source: the last path segment. */
export function urlFileName(url: string): string {
  const last = new URL(url).pathname.split('/').filter(Boolean).pop();
  return last ? decodeURIComponent(last) : 'file';
}

export function isLoopback(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

export interface Downloaded {
  md5: string;
  contentType: string | null;
}

/** Downloads a URL while hashing it; never holds the body in memory. Throws with a source error. */
export async function download(
  url: string,
  opts: { dispatcher: Dispatcher; signal: AbortSignal; timeoutMs: number },
): Promise<Downloaded> {
  const signal = AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs)]);
  let res: Dispatcher.ResponseData;
  try {
    res = await request(url, { dispatcher: opts.dispatcher, signal });
  } catch (err) {
    throw new Error(`failed to download ${url}: ${describe(err)}`);
  }
  if (res.statusCode < 200 || res.statusCode > 299) {
    res.body.resume();
    throw new Error(`failed to download ${url}: HTTP ${res.statusCode}`);
  }
  const md5 = createHash('md5');
  let size = 0;
  try {
    // Leaving the loop early destroys the body, so an oversized download stops at the limit.
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_URL_BYTES) break;
      md5.update(chunk);
    }
  } catch (err) {
    throw new Error(`failed to download ${url}: ${describe(err)}`);
  }
  if (size > MAX_URL_BYTES) throw new Error(`${url} is larger than the 1 GB limit for files reached by URL`);
  const type = res.headers['content-type'];
  return { md5: md5.digest('hex'), contentType: typeof type === 'string' ? type : null };
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: string }).code ?? (err.cause as { code?: string } | undefined)?.code;
  return code ? `${code} ${err.message}` : err.message;
}
