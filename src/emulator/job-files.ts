/**
 * The emulator's work folder: one sub-folder per job holding its inputs (texts, uploads,
 * downloads) and outputs (predictions, artifacts), so nothing the size of an input lives in memory.
 */
import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';

/** A stored input: where its bytes are, how many, and their hash. */
export interface StoredBytes {
  path: string;
  bytes: number;
  /** Hex digest, in the algorithm the writer was opened with. */
  digest: string;
}

export class JobFiles {
  readonly root: string;
  readonly #owned: boolean;

  private constructor(root: string, owned: boolean) {
    this.root = root;
    this.#owned = owned;
  }

  /** Uses `dataDir` when given (kept on close), else a fresh temp folder (removed on close). */
  static async open(dataDir: string | undefined): Promise<JobFiles> {
    if (dataDir !== undefined) {
      await mkdir(dataDir, { recursive: true });
      return new JobFiles(dataDir, false);
    }
    return new JobFiles(await mkdtemp(join(tmpdir(), 'hume-emulator-')), true);
  }

  /** A folder for a job being submitted; its name becomes the job id. */
  async newJob(): Promise<{ id: string; dir: string }> {
    const id = randomUUID();
    const dir = join(this.root, id);
    await mkdir(dir);
    return { id, dir };
  }

  async removeJob(id: string): Promise<void> {
    await rm(join(this.root, id), { recursive: true, force: true });
  }

  async close(): Promise<void> {
    if (this.#owned) await rm(this.root, { recursive: true, force: true });
  }
}

/**
 * A file written chunk by chunk, hashed and counted on the way; `write` waits for the disk when
 * its buffer is full, so a fast sender cannot pile bytes up in memory.
 */
export class HashingWriter {
  readonly #out: WriteStream;
  readonly #hash;
  readonly path: string;
  bytes = 0;

  constructor(path: string, algorithm: 'md5' | 'sha256') {
    this.path = path;
    this.#out = createWriteStream(path);
    this.#hash = createHash(algorithm);
    // Errors surface through `finish`; without a listener an early one would crash the process.
    this.#out.on('error', () => {});
  }

  async write(chunk: Buffer): Promise<void> {
    this.bytes += chunk.length;
    this.#hash.update(chunk);
    if (!this.#out.write(chunk)) await once(this.#out, 'drain');
  }

  async finish(): Promise<StoredBytes> {
    this.#out.end();
    await finished(this.#out);
    return { path: this.path, bytes: this.bytes, digest: this.#hash.digest('hex') };
  }

  /** Stops writing (the caller removes the folder). */
  abort(): void {
    this.#out.destroy();
  }
}

/**
 * Copies a stream to `path`, hashing it. Past `maxBytes` it stops reading and reports
 * `truncated`, with `bytes` = what was seen (over the limit) and the file incomplete.
 */
export async function storeStream(
  stream: Readable,
  path: string,
  algorithm: 'md5' | 'sha256',
  maxBytes: number,
): Promise<StoredBytes & { truncated: boolean }> {
  const writer = new HashingWriter(path, algorithm);
  let truncated = false;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (writer.bytes + chunk.length > maxBytes) {
        truncated = true;
        writer.bytes += chunk.length;
        break; // leaving the loop destroys the source, so a too-large download stops here
      }
      await writer.write(chunk);
    }
  } catch (err) {
    writer.abort();
    throw err;
  }
  return { ...(await writer.finish()), truncated };
}
