/**
 * The filesystem ResultStore: one folder per run, writes via a temporary sibling and a rename
 * (a hard link for files written once, so an existing one is never replaced).
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, copyFile, link, mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname, relative, resolve, isAbsolute } from 'node:path';
import { createInterface } from 'node:readline';
import { ApplicationFailure } from '@temporalio/common';
import type { AtomicWriter, ResultStore, ResumableWriter } from './store.js';
import { FAILURE_TYPES } from '../workflows/definitions.js';

/**
 * Filesystem errors no retry can fix: a person must change a permission, a mount, a path or free
 * space. An activity meeting one fails at once (non-retryable `RESULTS_UNWRITABLE`, naming the
 * path and the errno) instead of being retried forever.
 */
const UNFIXABLE = new Map<string, string>([
  ['EACCES', 'permission denied'],
  ['EPERM', 'operation not permitted'],
  ['EROFS', 'read-only filesystem'],
  ['ENOTDIR', 'a part of the path is a file, not a folder'],
  ['EISDIR', 'a folder is where a file should be'],
  ['ENOSPC', 'no space left on the device'],
  ['EDQUOT', 'disk quota exceeded'],
  ['ENAMETOOLONG', 'file name too long'],
  ['ELOOP', 'too many symbolic links'],
]);

export const RESULTS_UNWRITABLE = FAILURE_TYPES.resultsUnwritable;

/** `err` as a non-retryable RESULTS_UNWRITABLE failure when no retry can fix it; else `err` itself. */
export function unwritableFailure(err: unknown, fallbackPath?: string): unknown {
  const errno = err as NodeJS.ErrnoException;
  const meaning = typeof errno?.code === 'string' ? UNFIXABLE.get(errno.code) : undefined;
  if (!meaning) return err;
  const path = errno.path ?? fallbackPath ?? 'the results folder';
  return ApplicationFailure.nonRetryable(`cannot write ${path}: ${errno.code} (${meaning})`, RESULTS_UNWRITABLE, {
    path,
    code: errno.code,
    syscall: errno.syscall,
  });
}

/** Runs a filesystem write, failing for good on an error no retry can fix. */
async function guarded<T>(path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw unwritableFailure(err, path);
  }
}

/** Small writes (one index line) are gathered into chunks of about this many characters. */
const FLUSH_AT_CHARS = 64 * 1024;
/** Filesystems without hard links (exFAT, some network mounts) refuse `link` with one of these. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

class FsAtomicWriter implements AtomicWriter {
  #pending: string[] = [];
  #pendingChars = 0;

  constructor(
    readonly path: string,
    readonly tmpPath: string,
    readonly handle: FileHandle,
  ) {}

  async write(chunk: string): Promise<void> {
    this.#pending.push(chunk);
    this.#pendingChars += chunk.length;
    if (this.#pendingChars >= FLUSH_AT_CHARS) await guarded(this.path, () => this.#flush());
  }

  async commit(): Promise<void> {
    await guarded(this.path, async () => {
      await this.#flush();
      await this.handle.sync();
      await this.handle.close();
      await rename(this.tmpPath, this.path);
    });
  }

  /** Like commit, but keeps a file already under the name: false then. */
  async commitOnce(): Promise<boolean> {
    return guarded(this.path, () => this.#commitOnce());
  }

  async #commitOnce(): Promise<boolean> {
    await this.#flush();
    await this.handle.sync();
    await this.handle.close();
    try {
      // A hard link appears whole, and only if nothing has the name yet.
      await link(this.tmpPath, this.path);
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      if (code === 'EEXIST') return false;
      if (!NO_HARD_LINKS.has(code)) throw e;
      // Without hard links: still whole, but exclusive only against writers that are not concurrent.
      if (await access(this.path).then(() => true, () => false)) return false;
      await rename(this.tmpPath, this.path);
      return true;
    }
  }

  async abort(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await rm(this.tmpPath, { force: true });
  }

  async #flush(): Promise<void> {
    if (this.#pendingChars === 0) return;
    const data = this.#pending.join('');
    this.#pending = [];
    this.#pendingChars = 0;
    // writeFile on a handle writes from the current position and loops over partial writes.
    await this.handle.writeFile(data, 'utf8');
  }
}

/** A resumable file is written under `<name>.partial` until it is committed: the same name on every attempt. */
const PARTIAL = '.partial';

class FsResumableWriter implements ResumableWriter {
  #pending: string[] = [];
  #pendingChars = 0;
  /** Bytes on disk (not counting `#pending`). */
  #flushed: number;
  #bytes: number;

  constructor(
    readonly path: string,
    readonly partialPath: string,
    readonly handle: FileHandle,
    at: number,
  ) {
    this.#flushed = at;
    this.#bytes = at;
  }

  get bytes(): number {
    return this.#bytes;
  }

  async write(chunk: string): Promise<void> {
    this.#pending.push(chunk);
    this.#pendingChars += chunk.length;
    this.#bytes += Buffer.byteLength(chunk);
    if (this.#pendingChars >= FLUSH_AT_CHARS) await guarded(this.path, () => this.#flush());
  }

  async save(): Promise<number> {
    await guarded(this.path, async () => {
      await this.#flush();
      await this.handle.sync();
    });
    return this.#bytes;
  }

  async commit(): Promise<void> {
    await this.save();
    await guarded(this.path, async () => {
      await this.handle.close();
      await rename(this.partialPath, this.path);
    });
  }

  async abort(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await rm(this.partialPath, { force: true });
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }

  async #flush(): Promise<void> {
    if (this.#pendingChars === 0) return;
    const data = Buffer.from(this.#pending.join(''), 'utf8');
    this.#pending = [];
    this.#pendingChars = 0;
    // Positioned writes: a resumed file's handle does not start at its end.
    let done = 0;
    while (done < data.length) done += (await this.handle.write(data, done, data.length - done, this.#flushed + done)).bytesWritten;
    this.#flushed += data.length;
  }
}

const isMissing = (e: unknown): boolean => (e as NodeJS.ErrnoException).code === 'ENOENT';

export function createFsStore(root: string): ResultStore {
  const base = resolve(root);
  const resolvePath = (path: string): string => resolve(base, path);
  /** Writes stay inside the run folder, whatever a path or a job id says. */
  const writable = (path: string): string => {
    const abs = resolvePath(path);
    const rel = relative(base, abs);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new Error(`refusing to write outside ${base}: ${path}`);
    return abs;
  };

  const createWriter = async (path: string): Promise<FsAtomicWriter> => {
    const abs = writable(path);
    const tmpPath = `${abs}.${randomUUID()}.tmp`;
    return guarded(abs, async () => {
      await mkdir(dirname(abs), { recursive: true });
      return new FsAtomicWriter(abs, tmpPath, await open(tmpPath, 'w'));
    });
  };

  const store: ResultStore = {
    resolve: resolvePath,
    localPath: resolvePath,
    createWriter,
    async createResumableWriter(path, resumeAt) {
      const abs = writable(path);
      const partialPath = `${abs}${PARTIAL}`;
      return guarded(abs, async () => {
        await mkdir(dirname(abs), { recursive: true });
        if (resumeAt === undefined) return new FsResumableWriter(abs, partialPath, await open(partialPath, 'w'), 0);
        const handle = await open(partialPath, 'r+');
        const { size } = await handle.stat();
        if (size < resumeAt) {
          await handle.close();
          throw new Error(`${partialPath} holds ${size} bytes, fewer than the ${resumeAt} saved`);
        }
        await handle.truncate(resumeAt);
        return new FsResumableWriter(abs, partialPath, handle, resumeAt);
      });
    },
    readBytes(path, start = 0, end) {
      if (end !== undefined && end <= start) return (async function* () {})();
      return createReadStream(resolvePath(path), { start, ...(end !== undefined && { end: end - 1 }), highWaterMark: 1 << 16 });
    },
    async size(path) {
      try {
        return (await stat(resolvePath(path))).size;
      } catch (e) {
        if (isMissing(e)) return undefined;
        throw e;
      }
    },
    async putFile(path, localFile) {
      const abs = writable(path);
      if (resolve(localFile) === abs) return;
      const tmpPath = `${abs}.${randomUUID()}.tmp`;
      await guarded(abs, async () => {
        await mkdir(dirname(abs), { recursive: true });
        try {
          await copyFile(localFile, tmpPath);
          await rename(tmpPath, abs);
        } finally {
          await rm(tmpPath, { force: true });
        }
      });
    },
    async remove(path) {
      await guarded(resolvePath(path), () => rm(writable(path), { force: true }));
    },
    async writeJson(path, value) {
      const writer = await store.createWriter(path);
      try {
        await writer.write(`${JSON.stringify(value, null, 2)}\n`);
        await writer.commit();
      } catch (e) {
        await writer.abort();
        throw e;
      }
    },
    async writeJsonOnce(path, value) {
      const writer = await createWriter(path);
      try {
        await writer.write(`${JSON.stringify(value, null, 2)}\n`);
        return await writer.commitOnce();
      } finally {
        await writer.abort();
      }
    },
    async readJson(path) {
      try {
        return JSON.parse(await readFile(resolvePath(path), 'utf8')) as unknown;
      } catch (e) {
        if (isMissing(e)) return undefined;
        throw e;
      }
    },
    async *readLines(path) {
      const input = createReadStream(resolvePath(path));
      try {
        yield* createInterface({ input, crlfDelay: Infinity });
      } finally {
        // A reader that stops early (a page of a plan) must not leave the file open.
        input.destroy();
      }
    },
    async exists(path) {
      return access(resolvePath(path)).then(
        () => true,
        () => false,
      );
    },
    async list(dir) {
      try {
        return (await readdir(resolvePath(dir))).sort();
      } catch (e) {
        if (isMissing(e)) return [];
        throw e;
      }
    },
  };
  return store;
}
