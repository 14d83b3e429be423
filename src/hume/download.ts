/**
 * A download that survives a cut connection: the body goes to a stable sibling, `<dest>.partial`,
 * next to a small sidecar (`<dest>.partial.json`) holding the validator (a strong ETag, else
 * Last-Modified) and the total length; it is renamed to `destPath` only when complete, so
 * `destPath` only ever holds a whole file.
 *
 * A later attempt that passes `resumeFromBytes` (what its last heartbeat recorded) keeps that
 * prefix and asks for the rest with `Range` + `If-Range`: a 206 for exactly that range is
 * appended; a 200 (the server ignores ranges, or the resource changed) or a 416 starts over. The
 * sha256 always covers the whole file, the kept prefix re-read from disk.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { HumeError, HumeHttpError, HumeInvalidResponseError, HumeNetworkError } from './errors.js';
import { contentLength, type CallOptions, type HttpRequest, type HumeHttp, type ResponseBody, type ResponseHead } from './http.js';

export interface DownloadOptions extends CallOptions {
  /**
   * Bytes already downloaded by an earlier attempt (its last `onProgress` count). When the partial
   * file holds at least that many and its validator is known, they are kept and only the rest is
   * fetched. Absent or 0: the download starts from the first byte, discarding any partial file.
   */
  resumeFromBytes?: number;
}

export interface DownloadResult {
  path: string;
  /** Of the whole file, a resumed prefix included. */
  bytes: number;
  /** Of the whole file. */
  sha256: string;
}

/** What the sidecar records about the partial file: enough to ask for the rest safely. */
const PartialInfo = z.object({ validator: z.string().min(1).nullable(), total: z.number().int().nonnegative().nullable() });
type PartialInfo = z.infer<typeof PartialInfo>;

/** Where a resumed attempt starts: the kept prefix, its hash so far, and what the sidecar says. */
interface ResumePoint {
  offset: number;
  hash: Hash;
  info: PartialInfo & { validator: string };
}

/** The server answered a range we did not ask for: start over without one. */
const RESTART = Symbol('restart');

export async function downloadToFile(
  http: HumeHttp,
  call: string,
  req: HttpRequest,
  destPath: string,
  options: DownloadOptions = {},
): Promise<DownloadResult> {
  const paths = { dest: destPath, partial: `${destPath}.partial`, sidecar: `${destPath}.partial.json` };
  await mkdir(dirname(destPath), { recursive: true });
  let from = await resumePoint(paths.partial, paths.sidecar, options.resumeFromBytes);
  if (!from) await discard(paths);
  for (;;) {
    const ranged = from && { ...req, headers: { ...req.headers, range: `bytes=${from.offset}-`, 'if-range': from.info.validator } };
    const resumed = from;
    try {
      const result = await http.exchange(call, options, ranged ?? req, (body, head) => receive(call, body, head, paths, resumed, options));
      if (result !== RESTART) return result;
    } catch (e) {
      // 416: the kept prefix is no longer a prefix of what the server has.
      if (!(resumed && e instanceof HumeHttpError && e.status === 416)) throw e;
    }
    from = undefined;
    await discard(paths);
  }
}

async function receive(
  call: string,
  body: ResponseBody,
  head: ResponseHead,
  paths: { dest: string; partial: string; sidecar: string },
  from: ResumePoint | undefined,
  options: DownloadOptions,
): Promise<DownloadResult | typeof RESTART> {
  // Only 200 and 206 carry the file: a 202 or 204 (not ready yet) is never stored as it.
  if (head.statusCode !== 200 && head.statusCode !== 206) {
    await body.dump();
    throw new HumeError('HUME_HTTP_ERROR', true, `answered ${head.statusCode} instead of the file (not ready yet?)`, { call, status: head.statusCode });
  }
  let offset = 0;
  let hash = createHash('sha256');
  let total = contentLength(head.headers);
  if (head.statusCode === 206) {
    const range = parseContentRange(head.headers['content-range']);
    const etag = strongEtag(head.headers);
    if (!from) throw new HumeInvalidResponseError({ call, reason: 'invalid response: 206 Partial Content to a request without Range' });
    const matches =
      range?.start === from.offset &&
      (range.total === undefined || from.info.total === null || range.total === from.info.total) &&
      (etag === undefined || !from.info.validator.startsWith('"') || etag === from.info.validator);
    if (!matches) {
      body.destroy();
      return RESTART;
    }
    offset = from.offset;
    hash = from.hash;
    total = range.total ?? from.info.total ?? undefined;
  } else {
    const info: PartialInfo = { validator: strongEtag(head.headers) ?? lastModified(head.headers) ?? null, total: total ?? null };
    await writeFile(paths.sidecar, JSON.stringify(info));
  }

  const file = await open(paths.partial, offset > 0 ? 'r+' : 'w');
  let bytes = offset;
  try {
    await pipeline(
      body,
      new Writable({
        // Counted once written, so a heartbeat never reports bytes the partial file does not hold.
        write(chunk: Buffer, _encoding, done) {
          // A cancelled attempt (heartbeat timed out, a newer attempt runs) must stop writing at once.
          if (options.signal?.aborted) return done(options.signal.reason as Error);
          file.write(chunk, 0, chunk.length, bytes).then(() => {
            hash.update(chunk);
            bytes += chunk.length;
            options.onProgress?.(bytes);
            done();
          }, done);
        },
      }),
    );
  } finally {
    await file.close();
  }
  if (total !== undefined && bytes !== total) {
    // Retryable: the partial file stays, and the next attempt can resume from its heartbeat.
    throw new HumeNetworkError({ call, reason: `network error: body ended after ${bytes} of ${total} bytes` });
  }
  const sha256 = hash.digest('hex');
  // What was streamed must be what the file holds: an older attempt still writing into the same
  // partial file would leave bytes of its own. Read back once; a mismatch starts over from byte 0.
  if ((await sha256OfFile(paths.partial)) !== sha256) {
    await discard(paths);
    throw new HumeNetworkError({ call, reason: 'network error: the downloaded file does not hold the bytes received (written by another attempt?); starting over' });
  }
  await rename(paths.partial, paths.dest);
  await rm(paths.sidecar, { force: true });
  return { path: paths.dest, bytes, sha256 };
}

/** The sha256 of a file on disk, read as a stream. */
export async function sha256OfFile(path: string): Promise<string> {
  return (await hashOfFile(path)).digest('hex');
}

/** The sha256 of a stream of bytes (a file in any store). */
export async function sha256Of(chunks: AsyncIterable<Buffer>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of chunks) hash.update(chunk);
  return hash.digest('hex');
}

/** A sha256 fed with a file's first `bytes` bytes (all of them by default), to go on from there. */
async function hashOfFile(path: string, bytes?: number): Promise<Hash> {
  const hash = createHash('sha256');
  if (bytes === 0) return hash;
  for await (const chunk of createReadStream(path, bytes === undefined ? {} : { end: bytes - 1 })) hash.update(chunk as Buffer);
  return hash;
}

/**
 * The prefix a resumed attempt keeps, truncated to `resumeFromBytes` and hashed, or `undefined`
 * when it cannot resume (nothing asked, no partial that long, no validator to ask with).
 */
async function resumePoint(partial: string, sidecar: string, resumeFromBytes: number | undefined): Promise<ResumePoint | undefined> {
  if (!resumeFromBytes || !Number.isSafeInteger(resumeFromBytes) || resumeFromBytes < 0) return undefined;
  const [size, info] = await Promise.all([
    stat(partial).then((s) => s.size, () => -1),
    readFile(sidecar, 'utf8').then((text) => PartialInfo.safeParse(JSON.parse(text)).data, () => undefined),
  ]);
  if (size < resumeFromBytes || !info?.validator) return undefined;
  if (info.total !== null && resumeFromBytes >= info.total) return undefined;
  await truncate(partial, resumeFromBytes);
  return { offset: resumeFromBytes, hash: await hashOfFile(partial, resumeFromBytes), info: { ...info, validator: info.validator } };
}

async function discard(paths: { partial: string; sidecar: string }): Promise<void> {
  await Promise.all([rm(paths.partial, { force: true }), rm(paths.sidecar, { force: true })]);
}

/** `bytes <start>-<end>/<total|*>`; `undefined` when unparseable. */
function parseContentRange(value: string | string[] | undefined): { start: number; total?: number } | undefined {
  const match = typeof value === 'string' ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value.trim()) : null;
  if (!match) return undefined;
  return { start: Number(match[1]), ...(match[3] !== '*' && { total: Number(match[3]) }) };
}

/** A strong ETag: `If-Range` may not use a weak one (RFC 9110 §13.1.5). */
function strongEtag(headers: IncomingHttpHeaders): string | undefined {
  const etag = headers.etag;
  return typeof etag === 'string' && etag.startsWith('"') ? etag : undefined;
}

function lastModified(headers: IncomingHttpHeaders): string | undefined {
  const value = headers['last-modified'];
  return typeof value === 'string' && value !== '' ? value : undefined;
}
