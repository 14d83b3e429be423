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

export interface ResultStore {
  /** Absolute path of a store path. */
  resolve(path: string): string;
  createWriter(path: string): Promise<AtomicWriter>;
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
