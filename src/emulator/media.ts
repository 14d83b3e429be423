/**
 * What a source is: its media kind (from extension, then content type), and what the emulator
 * makes of URLs. Loopback URLs are really downloaded (url-download.ts) so tests can serve media;
 * other hosts are unreachable in a sandbox, so by default their content is derived from the URL
 * string (see `fetchUrls`). Archives are told apart further, by magic bytes too (archive.ts).
 */

export type MediaKind = 'image' | 'audio' | 'video' | 'text' | 'archive' | 'unknown';

/** Files reached by URL may be up to 1 GB (hume-batch-api.md §7.1). */
export const MAX_URL_BYTES = 1024 * 1024 * 1024;

const EXTENSIONS: Record<string, MediaKind> = {
  jpg: 'image', jpeg: 'image', png: 'image', gif: 'image', bmp: 'image', webp: 'image', tif: 'image', tiff: 'image', heic: 'image',
  wav: 'audio', mp3: 'audio', m4a: 'audio', aac: 'audio', flac: 'audio', ogg: 'audio', opus: 'audio', wma: 'audio',
  mp4: 'video', mov: 'video', avi: 'video', mkv: 'video', webm: 'video', m4v: 'video', wmv: 'video', '3gp': 'video',
  txt: 'text', text: 'text', md: 'text',
  zip: 'archive', gz: 'archive', tgz: 'archive', bz2: 'archive', tbz2: 'archive', tbz: 'archive', xz: 'archive', txz: 'archive', tar: 'archive',
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
