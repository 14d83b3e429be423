/**
 * The S3 ResultStore: a run folder is a key prefix in a bucket. Objects appear whole by nature (a
 * PUT, or a multipart upload that exists only once completed), so no temporary names are needed.
 * Unfinished uploads of a writer that died are S3's to expire: a bucket lifecycle rule
 * (AbortIncompleteMultipartUpload) removes them.
 */
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { createInterface } from 'node:readline';
import { PassThrough, type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { z } from 'zod';
import { formatLocation, isS3Location, parseLocation, type Location } from './location.js';
import { isNotFound, s3UnwritableFailure, statusOf } from './s3-errors.js';
import type { AtomicWriter, ResultStore, ResumableWriter } from './store.js';

export interface S3Location {
  bucket: string;
  /** Key prefix of the folder, without leading or trailing '/'; '' is the whole bucket. */
  prefix: string;
}

interface ObjectRef {
  bucket: string;
  key: string;
}

const formatS3Uri = ({ bucket, key }: ObjectRef): string => formatLocation({ kind: 's3', bucket, key });

/**
 * Parts of streamed uploads. 8 MiB allows objects up to ~78 GiB (S3's 10,000 parts) with one
 * part buffered per resumable writer; 5 MiB is S3's smallest part but the last.
 */
const PART_SIZE = 8 * 1024 * 1024;
const MIN_PART_SIZE = 5 * 1024 * 1024;
/** Parts of one atomic writer in flight at once: memory is about this many parts. */
const UPLOAD_QUEUE = 2;
/**
 * Every part carries a CRC32 (the SDK's default integrity check): S3 then wants the algorithm named
 * when the upload is created and each part's checksum at completion.
 */
const CHECKSUM = 'CRC32';
/** AWS answers 409 to a conditional PUT racing another one still in flight: it is to be retried. */
const CONFLICT_RETRIES = 5;

/** A resumable writer's records beside its object: the upload id, and the tails of its saves. */
const sidecarKey = (key: string): string => `${key}.partial.json`;
const tailKey = (key: string, start: number): string => `${key}.partial.tail-${start}`;
const sidecarPrefix = (key: string): string => `${key}.partial.`;
const Sidecar = z.object({ uploadId: z.string().min(1) });

export function createS3Store(client: S3Client, location: S3Location): ResultStore {
  const bucket = location.bucket;
  const prefix = location.prefix.replace(/^\/+|\/+$/g, '');

  const locate = (path: string): ObjectRef => {
    if (isS3Location(path)) {
      const given = parseLocation(path) as Extract<Location, { kind: 's3' }>;
      return { bucket: given.bucket, key: given.key };
    }
    const key = posix.normalize(posix.join(prefix, path));
    return { bucket, key: key === '.' ? '' : key };
  };
  /** Writes stay inside the run folder, whatever a path or a job id says. */
  const writable = (path: string): ObjectRef => {
    const ref = locate(path);
    const inside = prefix === '' ? ref.key !== '' && ref.key !== '..' && !ref.key.startsWith('../') : ref.key.startsWith(`${prefix}/`);
    // A path from the root is a local one, not a key of this folder.
    if (ref.bucket !== bucket || !inside || path.startsWith('/')) {
      throw new Error(`refusing to write outside ${formatS3Uri({ bucket, key: prefix })}: ${path}`);
    }
    return ref;
  };
  const guarded = async <T>(ref: ObjectRef, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw s3UnwritableFailure(err, ref.bucket, formatS3Uri(ref));
    }
  };

  /** The object's bytes (in `range`), or undefined when there is no object. */
  const open = async (ref: ObjectRef, range?: string): Promise<Readable | undefined> => {
    try {
      // In Node the SDK's body is a Readable.
      return (await client.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, Range: range }))).Body as Readable;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  const openOrFail = async (ref: ObjectRef, range?: string): Promise<Readable> => {
    const body = await open(ref, range);
    if (!body) throw new Error(`${formatS3Uri(ref)}: no such object (404)`);
    return body;
  };
  const rangeHeader = (start: number, end?: number): string | undefined =>
    start === 0 && end === undefined ? undefined : `bytes=${start}-${end === undefined ? '' : end - 1}`;
  /** Bytes `start` to `end` (exclusive, or the end); a start at or past the end gives none. */
  async function* streamBytes(ref: ObjectRef, start: number, end?: number): AsyncGenerator<Buffer> {
    if (end !== undefined && end <= start) return;
    let body: Readable;
    try {
      body = await openOrFail(ref, rangeHeader(start, end));
    } catch (err) {
      if (statusOf(err) === 416) return;
      throw err;
    }
    yield* body;
  }
  const put = (ref: ObjectRef, body: string | Buffer, ifNoneMatch?: '*') =>
    client.send(new PutObjectCommand({ Bucket: ref.bucket, Key: ref.key, Body: body, IfNoneMatch: ifNoneMatch }));
  const del = (ref: ObjectRef) => client.send(new DeleteObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
  const keysUnder = async (ref: ObjectRef, keyPrefix: string, delimiter?: string): Promise<{ keys: string[]; folders: string[] }> => {
    const keys: string[] = [];
    const folders: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: ref.bucket, Prefix: keyPrefix, Delimiter: delimiter, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
      for (const folder of page.CommonPrefixes ?? []) if (folder.Prefix) folders.push(folder.Prefix);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return { keys, folders };
  };
  const abortUpload = async (ref: ObjectRef, uploadId: string): Promise<void> => {
    await client.send(new AbortMultipartUploadCommand({ Bucket: ref.bucket, Key: ref.key, UploadId: uploadId })).catch((err: unknown) => {
      if (statusOf(err) !== 404) throw err;
    });
  };
  /** A resumable writer's sidecar and tails, from this attempt or an earlier one. */
  const removeRecords = async (ref: ObjectRef): Promise<void> => {
    const { keys } = await keysUnder(ref, sidecarPrefix(ref.key));
    await Promise.all(keys.map((key) => del({ bucket: ref.bucket, key })));
  };
  const readSidecar = async (ref: ObjectRef): Promise<z.infer<typeof Sidecar> | undefined> => {
    const raw = await store.readJson(formatS3Uri({ bucket: ref.bucket, key: sidecarKey(ref.key) }));
    if (raw === undefined) return undefined;
    const parsed = Sidecar.safeParse(raw);
    if (!parsed.success) throw new Error(`${formatS3Uri({ bucket: ref.bucket, key: sidecarKey(ref.key) })}: not a resumable upload record`);
    return parsed.data;
  };
  const uploads: MultipartOps = {
    uploadPart: async (ref, uploadId, partNumber, body) => {
      const answer = await client.send(
        new UploadPartCommand({ Bucket: ref.bucket, Key: ref.key, UploadId: uploadId, PartNumber: partNumber, Body: body, ChecksumAlgorithm: CHECKSUM }),
      );
      if (!answer.ETag) throw new Error(`${formatS3Uri(ref)}: part ${partNumber} was stored without an ETag`);
      return { PartNumber: partNumber, ETag: answer.ETag, ChecksumCRC32: answer.ChecksumCRC32, size: body.length };
    },
    putTail: (ref, start, body) => put({ bucket: ref.bucket, key: tailKey(ref.key, start) }, body).then(() => undefined),
    removeTail: (ref, start) => del({ bucket: ref.bucket, key: tailKey(ref.key, start) }).then(() => undefined),
    complete: async (ref, uploadId, parts) => {
      await client.send(
        new CompleteMultipartUploadCommand({
          Bucket: ref.bucket,
          Key: ref.key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts.map(({ PartNumber, ETag, ChecksumCRC32 }) => ({ PartNumber, ETag, ChecksumCRC32 })) },
        }),
      );
    },
    abortUpload,
    removeRecords,
  };

  const listParts = async (ref: ObjectRef, uploadId: string): Promise<SavedPart[]> => {
    const parts: SavedPart[] = [];
    let marker: string | undefined;
    try {
      do {
        const page = await client.send(new ListPartsCommand({ Bucket: ref.bucket, Key: ref.key, UploadId: uploadId, PartNumberMarker: marker }));
        for (const part of page.Parts ?? []) {
          if (part.PartNumber && part.ETag && part.Size !== undefined) {
            parts.push({ PartNumber: part.PartNumber, ETag: part.ETag, ChecksumCRC32: part.ChecksumCRC32, size: part.Size });
          }
        }
        marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
      } while (marker);
    } catch (err) {
      if (statusOf(err) === 404) throw new Error(`${formatS3Uri(ref)}: its unfinished upload ${uploadId} is gone (aborted, or expired by a lifecycle rule)`);
      throw err;
    }
    return parts.sort((a, b) => a.PartNumber - b.PartNumber);
  };

  /** The writer continuing `ref`'s unfinished upload at `resumeAt` bytes. */
  const resume = async (ref: ObjectRef, resumeAt: number): Promise<S3ResumableWriter> => {
    const uri = formatS3Uri(ref);
    const sidecar = await readSidecar(ref);
    if (!sidecar) throw new Error(`${uri}: no unfinished upload to continue at ${resumeAt} bytes (no ${sidecarKey(ref.key)})`);
    // Parts from 1 on, up to the last that ends by resumeAt: a part reaching past it may hold bytes
    // written after the save, and so may any part after a gap.
    const kept: SavedPart[] = [];
    let end = 0;
    for (const part of await listParts(ref, sidecar.uploadId)) {
      if (part.PartNumber !== kept.length + 1 || end + part.size > resumeAt) break;
      kept.push(part);
      end += part.size;
    }
    let tail = Buffer.alloc(0);
    if (resumeAt > end) {
      const body = await open({ bucket: ref.bucket, key: tailKey(ref.key, end) }, rangeHeader(0, resumeAt - end));
      if (body) tail = Buffer.concat(await body.toArray());
      if (end + tail.length < resumeAt) {
        throw new Error(`${uri}: its unfinished upload holds ${end + tail.length} bytes saved in order, fewer than the ${resumeAt} to continue at`);
      }
    }
    return new S3ResumableWriter(uploads, ref, sidecar.uploadId, kept, tail);
  };

  const store: ResultStore = {
    resolve: (path) => formatS3Uri(locate(path)),
    localPath: () => undefined,
    async createWriter(path) {
      return new S3AtomicWriter(client, writable(path));
    },
    async createResumableWriter(path, resumeAt) {
      const ref = writable(path);
      return guarded(ref, async () => {
        if (resumeAt !== undefined) return resume(ref, resumeAt);
        // A new file from the start: an unfinished one of an earlier attempt goes.
        const unfinished = await readSidecar(ref);
        if (unfinished) await abortUpload(ref, unfinished.uploadId);
        await removeRecords(ref);
        const created = await client.send(new CreateMultipartUploadCommand({ Bucket: ref.bucket, Key: ref.key, ChecksumAlgorithm: CHECKSUM }));
        if (!created.UploadId) throw new Error(`${formatS3Uri(ref)}: the multipart upload was created without an id`);
        // Recorded before any part is sent, so an attempt after a crash finds the upload.
        await put({ bucket: ref.bucket, key: sidecarKey(ref.key) }, `${JSON.stringify({ uploadId: created.UploadId })}\n`);
        return new S3ResumableWriter(uploads, ref, created.UploadId, [], Buffer.alloc(0));
      });
    },
    readBytes(path, start = 0, end) {
      return streamBytes(locate(path), start, end);
    },
    async size(path) {
      const ref = locate(path);
      try {
        return (await client.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }))).ContentLength;
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async putFile(path, localFile, signal) {
      const ref = writable(path);
      signal?.throwIfAborted();
      const { size } = await stat(localFile);
      const body = createReadStream(localFile);
      // Ending the body (rather than Upload.abort, which returns before the multipart upload is
      // aborted) makes `done` settle only once nothing is left at S3.
      const onAbort = () => body.destroy(signal?.reason as Error);
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        await guarded(ref, () => new Upload({ client, params: { Bucket: ref.bucket, Key: ref.key, Body: body, ContentLength: size } }).done());
      } catch (err) {
        signal?.throwIfAborted();
        throw err;
      } finally {
        signal?.removeEventListener('abort', onAbort);
        body.destroy();
      }
    },
    async remove(path) {
      const ref = writable(path);
      await guarded(ref, () => del(ref));
    },
    async writeJson(path, value) {
      const ref = writable(path);
      await guarded(ref, () => put(ref, `${JSON.stringify(value, null, 2)}\n`));
    },
    async writeJsonOnce(path, value) {
      const ref = writable(path);
      return guarded(ref, async () => {
        for (let attempt = 0; ; attempt++) {
          try {
            await put(ref, `${JSON.stringify(value, null, 2)}\n`, '*');
            return true;
          } catch (err) {
            if (statusOf(err) === 412) return false;
            if (statusOf(err) !== 409 || attempt >= CONFLICT_RETRIES) throw err;
            await sleep(50 * 2 ** attempt);
          }
        }
      });
    },
    async readJson(path) {
      const body = await open(locate(path));
      if (!body) return undefined;
      return JSON.parse(Buffer.concat(await body.toArray()).toString('utf8')) as unknown;
    },
    async *readLines(path) {
      const input = await openOrFail(locate(path));
      try {
        yield* createInterface({ input, crlfDelay: Infinity });
      } finally {
        // A reader that stops early (a page of a plan) must hand the connection back to the pool.
        input.destroy();
      }
    },
    async exists(path) {
      return (await store.size(path)) !== undefined;
    },
    async list(dir) {
      const ref = locate(dir);
      const under = ref.key === '' ? '' : `${ref.key}/`;
      const { keys, folders } = await keysUnder(ref, under, '/');
      const names = new Set([...keys.map((key) => key.slice(under.length)), ...folders.map((folder) => folder.slice(under.length, -1))]);
      names.delete('');
      return [...names].sort();
    },
  };
  return store;
}

/**
 * A streamed object: lib-storage's Upload reads the body as it comes (one PUT when it stays under
 * a part, a multipart upload otherwise) and the object exists once the body has ended and the
 * upload is complete.
 */
class S3AtomicWriter implements AtomicWriter {
  readonly #body = new PassThrough();
  readonly #ref: ObjectRef;
  /** Settles (never rejects) when the upload ends; `#failure` says how. */
  readonly #ended: Promise<void>;
  #failure: unknown;

  constructor(client: S3Client, ref: ObjectRef) {
    this.#ref = ref;
    const upload = new Upload({ client, params: { Bucket: ref.bucket, Key: ref.key, Body: this.#body }, partSize: PART_SIZE, queueSize: UPLOAD_QUEUE });
    this.#ended = upload.done().then(
      () => undefined,
      (err: unknown) => void (this.#failure = err),
    );
  }

  async write(chunk: string): Promise<void> {
    this.#throwIfFailed();
    // Waits while the upload is behind, so memory stays at the parts in flight.
    if (!this.#body.write(chunk)) await Promise.race([once(this.#body, 'drain'), this.#ended]);
    this.#throwIfFailed();
  }

  async commit(): Promise<void> {
    this.#body.end();
    await this.#ended;
    this.#throwIfFailed();
  }

  /** An ended body makes the upload fail, and it aborts its multipart upload before it settles. */
  async abort(): Promise<void> {
    this.#body.destroy(new Error(`${formatS3Uri(this.#ref)}: writer aborted`));
    await this.#ended;
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw s3UnwritableFailure(this.#failure, this.#ref.bucket, formatS3Uri(this.#ref));
  }
}

interface SavedPart extends CompletedPart {
  PartNumber: number;
  ETag: string;
  size: number;
}

/** What a resumable writer asks of S3, given by the store. */
interface MultipartOps {
  uploadPart(ref: ObjectRef, uploadId: string, partNumber: number, body: Buffer): Promise<SavedPart>;
  putTail(ref: ObjectRef, start: number, body: Buffer): Promise<void>;
  removeTail(ref: ObjectRef, start: number): Promise<void>;
  complete(ref: ObjectRef, uploadId: string, parts: SavedPart[]): Promise<void>;
  abortUpload(ref: ObjectRef, uploadId: string): Promise<void>;
  removeRecords(ref: ObjectRef): Promise<void>;
}

/**
 * A multipart upload written part by part, in order, holding at most one part in memory. `save`
 * sends what is buffered: as a part when it is big enough to be one, else as a tail object named
 * by where it starts (`<key>.partial.tail-<offset>`). A later attempt keeps the parts up to the
 * saved length and takes the rest from the tail. Tails of the last two saves are kept, so a
 * checkpoint written just before the last save (a crash between the save and its record) can
 * still be continued.
 */
class S3ResumableWriter implements ResumableWriter {
  readonly #ops: MultipartOps;
  readonly #ref: ObjectRef;
  readonly #uploadId: string;
  readonly #parts: SavedPart[];
  /** Bytes in `#parts`. */
  #partsEnd: number;
  #buffer: Buffer[];
  #buffered: number;
  /** Where the tails of the last two saves start. */
  #saveStarts: number[];

  constructor(ops: MultipartOps, ref: ObjectRef, uploadId: string, parts: SavedPart[], tail: Buffer) {
    this.#ops = ops;
    this.#ref = ref;
    this.#uploadId = uploadId;
    this.#parts = [...parts];
    this.#partsEnd = parts.reduce((sum, part) => sum + part.size, 0);
    this.#buffer = tail.length > 0 ? [tail] : [];
    this.#buffered = tail.length;
    this.#saveStarts = [this.#partsEnd];
  }

  get bytes(): number {
    return this.#partsEnd + this.#buffered;
  }

  async write(chunk: string): Promise<void> {
    const data = Buffer.from(chunk, 'utf8');
    this.#buffer.push(data);
    this.#buffered += data.length;
    while (this.#buffered >= PART_SIZE) await this.#guarded(() => this.#sendPart(this.#take(PART_SIZE)));
  }

  async save(): Promise<number> {
    await this.#guarded(async () => {
      if (this.#buffered >= MIN_PART_SIZE) await this.#sendPart(this.#take(this.#buffered));
      else if (this.#buffered > 0) await this.#ops.putTail(this.#ref, this.#partsEnd, this.#joined());
      const previous = this.#saveStarts.at(-1)!;
      const keep = previous === this.#partsEnd ? [previous] : [previous, this.#partsEnd];
      for (const start of this.#saveStarts) if (!keep.includes(start)) await this.#ops.removeTail(this.#ref, start);
      this.#saveStarts = keep;
    });
    return this.bytes;
  }

  async commit(): Promise<void> {
    await this.#guarded(async () => {
      // The last part may be small, even empty (an empty file).
      if (this.#buffered > 0 || this.#parts.length === 0) await this.#sendPart(this.#take(this.#buffered));
      await this.#ops.complete(this.#ref, this.#uploadId, this.#parts);
      await this.#ops.removeRecords(this.#ref);
    });
  }

  async abort(): Promise<void> {
    this.#dropBuffer();
    await this.#guarded(async () => {
      await this.#ops.abortUpload(this.#ref, this.#uploadId);
      await this.#ops.removeRecords(this.#ref);
    });
  }

  async close(): Promise<void> {
    this.#dropBuffer();
  }

  async #sendPart(body: Buffer): Promise<void> {
    const part = await this.#ops.uploadPart(this.#ref, this.#uploadId, this.#parts.length + 1, body);
    this.#parts.push(part);
    this.#partsEnd += part.size;
  }

  /** The first `n` buffered bytes, removed from the buffer. */
  #take(n: number): Buffer {
    const all = this.#joined();
    this.#buffer = all.length > n ? [all.subarray(n)] : [];
    this.#buffered = all.length - n;
    return all.subarray(0, n);
  }

  #joined(): Buffer {
    if (this.#buffer.length !== 1) this.#buffer = [Buffer.concat(this.#buffer)];
    return this.#buffer[0] ?? Buffer.alloc(0);
  }

  #dropBuffer(): void {
    this.#buffer = [];
    this.#buffered = 0;
  }

  async #guarded<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw s3UnwritableFailure(err, this.#ref.bucket, formatS3Uri(this.#ref));
    }
  }
}
