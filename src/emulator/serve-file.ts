/**
 * Serves a finished job's file (predictions, artifacts) from disk with `Content-Length`, a strong
 * `ETag` and `Accept-Ranges: bytes`, honouring a single `Range: bytes=a-b | a- | -n` (206 with
 * `Content-Range`, 416 when unsatisfiable) and `If-Range` (a different ETag gets the whole file).
 * Multiple ranges and malformed headers are ignored, as RFC 9110 §14.2 allows: the whole file.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServedFile } from './jobs.js';
import type { EmulatorStats } from './stats.js';

export interface ServeOptions {
  /** Strong validator; the file never changes once written. */
  etag: string;
  contentType: string;
  stats: EmulatorStats;
}

export type ByteRange = { start: number; end: number } | 'unsatisfiable' | undefined;

/** The one range a `Range` header asks of `size` bytes (`end` inclusive); undefined = whole file. */
export function parseRange(header: string | undefined, size: number): ByteRange {
  const m = /^bytes=\s*(\d*)-(\d*)\s*$/.exec(header ?? '');
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    return suffix === 0 || size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return undefined; // invalid, not unsatisfiable
  return start >= size ? 'unsatisfiable' : { start, end };
}

export function serveFile(req: FastifyRequest, reply: FastifyReply, file: ServedFile, opts: ServeOptions): Readable | string {
  const { etag, stats } = opts;
  void reply.header('accept-ranges', 'bytes').header('etag', etag).type(opts.contentType);
  const ifRange = req.headers['if-range'];
  const range = ifRange === undefined || ifRange === etag ? parseRange(req.headers.range, file.bytes) : undefined;
  if (range === 'unsatisfiable') {
    void reply.code(416).header('content-range', `bytes */${file.bytes}`).type('application/json');
    return JSON.stringify({ message: `range not satisfiable: ${req.headers.range} of ${file.bytes} bytes` });
  }
  const { start, end } = range ?? { start: 0, end: file.bytes - 1 };
  if (range) {
    stats.rangeRequests++;
    void reply.code(206).header('content-range', `bytes ${start}-${end}/${file.bytes}`);
  }
  void reply.header('content-length', String(end - start + 1));
  if (file.bytes === 0) return '';
  const stream = createReadStream(file.path, { start, end });
  // Fastify's HEAD route destroys the stream and keeps these headers: nothing is served.
  if (req.method !== 'HEAD') stream.on('close', () => (stats.bytesServed += stream.bytesRead));
  return stream;
}
