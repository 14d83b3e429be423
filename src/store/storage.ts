/**
 * Storage chosen by location: each activity asks the injected Storage for the store of a folder
 * (a local path or `s3://bucket/prefix`) or for one file, and never opens a path itself, so the
 * same activities run on one machine with a shared disk or on hosts that share only a bucket.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { createFsStore } from './fs.js';
import { nameOfLocation, parentLocation, parseLocation } from './location.js';
import { createS3ClientFromEnv, checkS3Location } from './s3-client.js';
import { createS3Store } from './s3.js';
import type { ResultStore } from './store.js';

/** One file somewhere in storage. */
export interface StoredFile {
  /** Its canonical location. */
  readonly location: string;
  /** The file on this machine's disk, when it is on it. */
  readonly localPath: string | undefined;
  /** Size in bytes, or `undefined` when there is none. */
  size(): Promise<number | undefined>;
  /** Bytes [start, end), streamed (a ranged GET on S3). */
  read(start?: number, end?: number): AsyncIterable<Buffer>;
  /** Its lines, streamed. */
  lines(): AsyncIterable<string>;
}

export interface Storage {
  /** The store of the folder at `location`. */
  folder(location: string): ResultStore;
  file(location: string): StoredFile;
  /**
   * Refuses a location that cannot be used, in one line naming it and the cause (no credentials,
   * no such bucket, access denied), before anything is submitted. Local folders are checked
   * where they are written.
   */
  check(location: string): Promise<void>;
}

/** The file at `path` of a store. */
export function fileOf(store: ResultStore, path: string): StoredFile {
  return {
    location: store.resolve(path),
    localPath: store.localPath(path),
    size: () => store.size(path),
    read: (start, end) => store.readBytes(path, start, end),
    lines: () => store.readLines(path),
  };
}

export interface StorageOptions {
  /** The S3 client; built from the environment (the SDK's default chain) on first use. */
  s3?: S3Client;
  env?: NodeJS.ProcessEnv;
}

export function createStorage(options: StorageOptions = {}): Storage {
  let client = options.s3;
  const s3 = (): S3Client => (client ??= createS3ClientFromEnv(options.env));
  const folder = (location: string): ResultStore => {
    const parsed = parseLocation(location);
    return parsed.kind === 'fs' ? createFsStore(parsed.path) : createS3Store(s3(), { bucket: parsed.bucket, prefix: parsed.key });
  };
  return {
    folder,
    file: (location) => fileOf(folder(parentLocation(location)), nameOfLocation(location)),
    async check(location) {
      const parsed = parseLocation(location);
      if (parsed.kind === 's3') await checkS3Location(s3(), { bucket: parsed.bucket, prefix: parsed.key });
    },
  };
}
