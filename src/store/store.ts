/**
 * Where a run's results live. Paths are relative to the run folder (absolute ones are read as
 * given). Every write lands whole or not at all: readers never see half a file, and a crashed
 * writer leaves only a temporary file behind.
 */

/** A file written in pieces that only appears under its name on `commit`. */
export interface AtomicWriter {
  /** Appends; resolves once the data is buffered or written, so callers keep memory bounded. */
  write(chunk: string): Promise<void>;
  /** Flushes, syncs and renames into place. */
  commit(): Promise<void>;
  /** Drops the temporary file; the previous file under the name, if any, stays. */
  abort(): Promise<void>;
}

/**
 * An AtomicWriter that survives the death of its process: `save` makes what was written so far
 * durable and returns its length, and a writer opened again with that length continues there
 * (whatever was written after the save is dropped). On S3 this is a multipart upload: `save`
 * uploads the buffered bytes as a part (a tail under 5 MiB goes to a small side object), only the
 * length goes in the checkpoint, resuming lists the parts again, and `commit` completes the upload.
 */
export interface ResumableWriter extends AtomicWriter {
  /** Bytes written so far, saved or not. */
  readonly bytes: number;
  save(): Promise<number>;
  /** Stops writing and keeps the unfinished file as far as it was saved, for a later attempt. */
  close(): Promise<void>;
}

export interface ResultStore {
  /** Where a store path is, for people and records: an absolute path, or `s3://bucket/key`. */
  resolve(path: string): string;
  /**
   * The local file behind a store path, for code that needs a real file (a resumable download);
   * `undefined` for a store that is not on this machine's disk (S3).
   */
  localPath(path: string): string | undefined;
  createWriter(path: string): Promise<AtomicWriter>;
  /**
   * A resumable writer for `path`: from the start, or continuing the unfinished one at `resumeAt`
   * bytes (an error when none is there with at least that many).
   */
  createResumableWriter(path: string, resumeAt?: number): Promise<ResumableWriter>;
  /** Bytes `start` (inclusive) to `end` (exclusive, default: the end) of a file, streamed (on S3 a ranged GET); a missing file is an error. */
  readBytes(path: string, start?: number, end?: number): AsyncIterable<Buffer>;
  /** A file's size in bytes, or `undefined` when there is none. */
  size(path: string): Promise<number | undefined>;
  /** Puts a local file under `path`, whole or not at all (on S3 a multipart upload); the local file stays. */
  putFile(path: string, localFile: string, signal?: AbortSignal): Promise<void>;
  /** Removes a file; a missing one is fine. */
  remove(path: string): Promise<void>;
  /** Writes pretty-printed JSON with a final newline, atomically. */
  writeJson(path: string, value: unknown): Promise<void>;
  /**
   * Writes pretty-printed JSON atomically unless a file is already there: true when written,
   * false when the existing file was kept. Of two concurrent writers exactly one wins.
   */
  writeJsonOnce(path: string, value: unknown): Promise<boolean>;
  /** The parsed file, or `undefined` when there is none. */
  readJson(path: string): Promise<unknown>;
  /** Lines of a text file, streamed; a missing file is an error. */
  readLines(path: string): AsyncIterable<string>;
  exists(path: string): Promise<boolean>;
  /** Entry names in a folder, sorted; none when the folder is missing. */
  list(dir: string): Promise<string[]>;
}
