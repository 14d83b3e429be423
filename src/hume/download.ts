/**
 * Streams a response body to a file: written to a temporary sibling and renamed into place, so
 * `destPath` only ever holds a complete download; the sha256 is computed on the way through.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface DownloadResult {
  path: string;
  bytes: number;
  sha256: string;
}

export async function streamToFile(body: AsyncIterable<Uint8Array>, destPath: string): Promise<DownloadResult> {
  await mkdir(dirname(destPath), { recursive: true });
  const tmpPath = `${destPath}.${randomUUID()}.tmp`;
  const hash = createHash('sha256');
  let bytes = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  try {
    await pipeline(body, measure, createWriteStream(tmpPath));
    await rename(tmpPath, destPath);
  } catch (e) {
    await rm(tmpPath, { force: true });
    throw e;
  }
  return { path: destPath, bytes, sha256: hash.digest('hex') };
}
