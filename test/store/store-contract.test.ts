/**
 * One contract, two stores: the filesystem store on a temporary folder and the S3 store on a real
 * S3 server (versitygw). Whatever a results folder promises, both keep.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3Server, type S3Server } from '../../src/devserver/s3-server.js';
import { freePort } from '../../src/devserver/server.js';
import { createFsStore, RESULTS_UNWRITABLE } from '../../src/store/fs.js';
import { createS3Store } from '../../src/store/s3.js';
import type { ResultStore } from '../../src/store/store.js';

const MiB = 1024 * 1024;
const BUCKET = 'results';

interface Backend {
  /** A store of a new, empty run folder. */
  fresh(): Promise<ResultStore>;
  /** Anything a store keeps out of sight (temporary files, unfinished multipart uploads). */
  hidden(store: ResultStore): Promise<string[]>;
  /** A location outside the folder of `store`, in the form the store reads as given. */
  outside(store: ResultStore): string;
}

let scratch: string;
let server: S3Server;
let s3: S3Client;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'store-contract-'));
  server = await startS3Server();
  await server.createBucket(BUCKET);
  s3 = server.client();
});
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
  await rm(scratch, { recursive: true, force: true });
});

const fsBackend: Backend = {
  fresh: async () => createFsStore(join(scratch, randomUUID())),
  hidden: async (store) => (await readdir(store.resolve('.'), { recursive: true }).catch(() => [])).filter((name) => name.endsWith('.tmp')),
  outside: (store) => join(store.resolve('.'), '..', 'elsewhere.json'),
};

const s3Backend: Backend = {
  fresh: async () => createS3Store(s3, { bucket: BUCKET, prefix: `runs/${randomUUID()}` }),
  hidden: async (store) => {
    const prefix = store.resolve('.').slice(`s3://${BUCKET}/`.length);
    const { Uploads } = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: prefix }));
    return (Uploads ?? []).map((upload) => `upload of ${upload.Key}`);
  },
  outside: (store) => `${store.resolve('.')}-elsewhere/x.json`,
};

/** `n` bytes of ASCII text, different for each `seed`. */
function text(n: number, seed = 'x'): string {
  const line = `${seed},${'0123456789'.repeat(6)}\n`;
  return line.repeat(Math.ceil(n / line.length)).slice(0, n);
}

async function writeAll(writer: { write(chunk: string): Promise<void> }, data: string): Promise<void> {
  for (let at = 0; at < data.length; at += 256 * 1024) await writer.write(data.slice(at, at + 256 * 1024));
}

async function bytesOf(store: ResultStore, path: string, start?: number, end?: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of store.readBytes(path, start, end)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

describe.each([
  ['filesystem', fsBackend],
  ['S3', s3Backend],
])('the %s store', (_name, backend) => {
  it('shows a streamed file only once committed, whole, and an aborted one never, keeping the previous file', async () => {
    const store = await backend.fresh();
    const big = text(9 * MiB);
    const writer = await store.createWriter('csv/face.csv');
    await writer.write('a,b\n');
    await writeAll(writer, big);
    expect(await store.exists('csv/face.csv')).toBe(false);
    await writer.commit();
    expect(sha(await bytesOf(store, 'csv/face.csv'))).toBe(sha(`a,b\n${big}`));

    const second = await store.createWriter('csv/face.csv');
    await writeAll(second, text(9 * MiB, 'z'));
    await second.abort();
    expect(sha(await bytesOf(store, 'csv/face.csv'))).toBe(sha(`a,b\n${big}`));
    expect(await store.list('csv')).toEqual(['face.csv']);
    expect(await backend.hidden(store)).toEqual([]);
  });

  it('writes pretty JSON, reads a missing file as undefined, and lets exactly one of two concurrent write-once writers win', async () => {
    const store = await backend.fresh();
    await store.writeJson('jobs/0-a/outcome.json', { batch: 0 });
    expect((await bytesOf(store, 'jobs/0-a/outcome.json', 0, 100)).toString()).toBe('{\n  "batch": 0\n}\n');
    expect(await store.readJson('jobs/1-b/outcome.json')).toBeUndefined();

    const results = await Promise.all([store.writeJsonOnce('owner.json', { run: 'a' }), store.writeJsonOnce('owner.json', { run: 'b' })]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await store.readJson('owner.json')).toEqual({ run: results[0] ? 'a' : 'b' });
    expect(await store.writeJsonOnce('owner.json', { run: 'c' })).toBe(false);
    expect(await store.list('.')).toEqual(['jobs', 'owner.json']);
  });

  it('continues a resumable file at its saved length after its writer died, dropping what came after the save', async () => {
    const store = await backend.fresh();
    const first = await store.createResumableWriter('index.jsonl');
    await first.write('h\u00e9ader\n');
    await first.write('row 1\n');
    const saved = await first.save();
    expect(saved).toBe(Buffer.byteLength('h\u00e9ader\nrow 1\n'));
    await first.write('row 2, never saved');
    // The process dies here: no commit, no abort, no close.
    const again = await store.createResumableWriter('index.jsonl', saved);
    expect(again.bytes).toBe(saved);
    await again.write('row 2\n');
    expect(await store.exists('index.jsonl')).toBe(false);
    await again.commit();
    expect((await bytesOf(store, 'index.jsonl')).toString()).toBe('h\u00e9ader\nrow 1\nrow 2\n');
    expect(await store.list('.')).toEqual(['index.jsonl']);
    expect(await backend.hidden(store)).toEqual([]);
    // Only so the test process does not leak the dead writer's file handle.
    await first.close();
  });

  it('resumes across a part boundary, at the last save or the one before it', async () => {
    const store = await backend.fresh();
    const [a, b, junk] = [text(3 * MiB, 'a'), text(6 * MiB, 'b'), text(MiB, 'j')];
    for (const [path, resumeOf] of [
      ['csv/last.csv', 'last'],
      ['csv/before.csv', 'before'],
    ] as const) {
      const writer = await store.createResumableWriter(path);
      await writeAll(writer, a);
      const before = await writer.save();
      await writeAll(writer, b);
      const last = await writer.save();
      expect([before, last]).toEqual([3 * MiB, 9 * MiB]);
      await writeAll(writer, junk);
      // Dies with a part past the last save sent.
      const at = resumeOf === 'last' ? last : before;
      const again = await store.createResumableWriter(path, at);
      await writeAll(again, 'tail\n');
      await again.commit();
      const expected = resumeOf === 'last' ? `${a}${b}tail\n` : `${a}tail\n`;
      expect(sha(await bytesOf(store, path))).toBe(sha(expected));
      await writer.close();
    }
    expect(await store.list('csv')).toEqual(['before.csv', 'last.csv']);
    expect(await backend.hidden(store)).toEqual([]);
  });

  it('commits an empty resumable file as an empty file', async () => {
    const store = await backend.fresh();
    const writer = await store.createResumableWriter('csv/empty.csv');
    expect(await writer.save()).toBe(0);
    await writer.commit();
    expect(await store.size('csv/empty.csv')).toBe(0);
    expect(await store.list('csv')).toEqual(['empty.csv']);
  });

  it('refuses to resume past what was saved, or a file never started; abort leaves nothing', async () => {
    const store = await backend.fresh();
    await expect(store.createResumableWriter('never.csv', 0)).rejects.toThrow(/never\.csv/);
    const writer = await store.createResumableWriter('csv/face.csv');
    await writer.write('abc');
    const saved = await writer.save();
    await writer.close();
    await expect(store.createResumableWriter('csv/face.csv', saved + 1)).rejects.toThrow(/face\.csv/);
    const again = await store.createResumableWriter('csv/face.csv', saved);
    await again.write('def');
    await again.abort();
    expect(await store.exists('csv/face.csv')).toBe(false);
    expect(await store.list('csv')).toEqual([]);
    expect(await backend.hidden(store)).toEqual([]);
  });

  it('reads byte ranges, and sizes files', async () => {
    const store = await backend.fresh();
    const content = 'a,1\nb,\u00e9\nc,3\n';
    const writer = await store.createWriter('rows.csv');
    await writer.write(content);
    await writer.commit();
    const row2 = Buffer.byteLength('b,\u00e9\n');
    expect(await bytesOf(store, 'rows.csv', 4, 4)).toEqual(Buffer.alloc(0));
    expect((await bytesOf(store, 'rows.csv', 4, 4 + row2)).toString()).toBe('b,\u00e9\n');
    expect((await bytesOf(store, 'rows.csv', 4 + row2)).toString()).toBe('c,3\n');
    expect((await bytesOf(store, 'rows.csv')).toString()).toBe(content);
    expect(await bytesOf(store, 'rows.csv', Buffer.byteLength(content))).toEqual(Buffer.alloc(0));
    expect(await store.size('rows.csv')).toBe(Buffer.byteLength(content));
    expect(await store.size('none.csv')).toBeUndefined();
    await expect(bytesOf(store, 'none.csv')).rejects.toThrow(/none\.csv/);
  });

  it('puts a local file of several parts whole', async () => {
    const store = await backend.fresh();
    const local = join(scratch, `${randomUUID()}.bin`);
    const data = Buffer.from(text(12 * MiB, 'p'));
    await writeFile(local, data);
    await store.putFile('media/big.bin', local);
    expect(await store.size('media/big.bin')).toBe(data.length);
    expect(sha(await bytesOf(store, 'media/big.bin'))).toBe(sha(data));
    expect(await store.list('media')).toEqual(['big.bin']);
    expect(await backend.hidden(store)).toEqual([]);
  });

  it('lists a folder: files and sub-folders, sorted, none when missing; reads lines; removes', async () => {
    const store = await backend.fresh();
    for (const path of ['jobs/2-b/outcome.json', 'jobs/10-a/outcome.json', 'jobs/1-c/shard.json', 'jobs/index.jsonl', 'summary.json']) {
      await store.writeJson(path, { path });
    }
    expect(await store.list('jobs')).toEqual(['1-c', '10-a', '2-b', 'index.jsonl']);
    expect(await store.list('.')).toEqual(['jobs', 'summary.json']);
    expect(await store.list('nothing')).toEqual([]);

    const lines: string[] = [];
    for await (const line of store.readLines('jobs/index.jsonl')) lines.push(line);
    expect(lines).toEqual(['{', '  "path": "jobs/index.jsonl"', '}']);
    await expect((async () => { for await (const line of store.readLines('none.jsonl')) lines.push(line); })()).rejects.toThrow(/none\.jsonl/);

    expect(await store.exists('summary.json')).toBe(true);
    await store.remove('summary.json');
    await store.remove('summary.json');
    expect(await store.exists('summary.json')).toBe(false);
    expect(await store.list('.')).toEqual(['jobs']);
  });

  it('gives its connection back when a reader stops after the first line of a big file (a page of a plan)', async () => {
    const store = await backend.fresh();
    const writer = await store.createWriter('plan.jsonl');
    for (let i = 0; i < 12_000; i++) await writer.write(`${JSON.stringify({ index: i, pad: 'x'.repeat(1_000) })}\n`);
    await writer.commit();
    // More early stops than the SDK's pool has sockets (50): a leaked one per stop would hang the last reads.
    for (let page = 0; page < 60; page++) {
      for await (const line of store.readLines('plan.jsonl')) {
        expect(JSON.parse(line).index).toBe(0);
        break;
      }
    }
    expect(await store.exists('plan.jsonl')).toBe(true);
  }, 60_000);

  it('refuses writes outside its folder, and reads a location given in full', async () => {
    const store = await backend.fresh();
    await store.writeJson('a.json', { a: 1 });
    expect(await store.readJson(store.resolve('a.json'))).toEqual({ a: 1 });
    for (const path of ['../escape.json', '.', backend.outside(store)]) {
      await expect(store.writeJson(path, {})).rejects.toThrow(/refusing to write outside/);
      await expect(store.createWriter(path)).rejects.toThrow(/refusing to write outside/);
      await expect(store.createResumableWriter(path)).rejects.toThrow(/refusing to write outside/);
      await expect(store.remove(path)).rejects.toThrow(/refusing to write outside/);
    }
  });
});

describe('the S3 store specifically', () => {
  it('resolves paths to s3:// addresses, has no local paths, and uploads a big local file in parts', async () => {
    const store = createS3Store(s3, { bucket: BUCKET, prefix: 'runs/r1/' });
    expect(store.resolve('.')).toBe(`s3://${BUCKET}/runs/r1`);
    expect(store.resolve('csv/face.csv')).toBe(`s3://${BUCKET}/runs/r1/csv/face.csv`);
    expect(store.localPath('csv/face.csv')).toBeUndefined();
    const local = join(scratch, `${randomUUID()}.bin`);
    await writeFile(local, Buffer.alloc(12 * MiB, 1));
    await store.putFile('media/big.bin', local);
    const { ETag } = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'runs/r1/media/big.bin' }));
    // A multipart object's ETag ends with its number of parts.
    expect(ETag).toMatch(/-3"$/);
  });

  it('over a whole bucket, writes anywhere in it but nowhere else', async () => {
    const store = createS3Store(s3, { bucket: BUCKET, prefix: '' });
    expect(store.resolve('.')).toBe(`s3://${BUCKET}`);
    await store.writeJson('top.json', { top: true });
    expect(await store.readJson(`s3://${BUCKET}/top.json`)).toEqual({ top: true });
    for (const path of ['.', '..', '../other/x.json', '/tmp/x.json', 's3://other-bucket/x.json']) {
      await expect(store.writeJson(path, {})).rejects.toThrow(`refusing to write outside s3://${BUCKET}: ${path}`);
    }
    await store.remove('top.json');
  });

  it('stops putting a file when its signal aborts, leaving no object and no unfinished upload', async () => {
    const store = await s3Backend.fresh();
    const local = join(scratch, `${randomUUID()}.bin`);
    await writeFile(local, Buffer.alloc(40 * MiB, 2));
    await expect(store.putFile('media/never.bin', local, AbortSignal.abort())).rejects.toThrow(/abort/i);
    const controller = new AbortController();
    const putting = store.putFile('media/cut.bin', local, controller.signal);
    // Cut once the multipart upload exists, so there is something at S3 to clean up.
    await expect.poll(() => s3Backend.hidden(store), { interval: 5 }).toHaveLength(1);
    controller.abort();
    await expect(putting).rejects.toThrow(/abort/i);
    expect(await s3Backend.hidden(store)).toEqual([]);
    expect(await store.list('media')).toEqual([]);
  });

  it('throws errors a retry may fix as they are: an unreachable server, then the same server back', async () => {
    const credentials = { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey };
    const unreachable = new S3Client({ endpoint: `http://127.0.0.1:${await freePort()}`, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1, credentials });
    const failure = await createS3Store(unreachable, { bucket: BUCKET, prefix: 'runs/r2' })
      .writeJson('summary.json', {})
      .catch((err: unknown) => err);
    expect(failure).not.toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ code: 'ECONNREFUSED' });
    unreachable.destroy();

    const store = createS3Store(s3, { bucket: BUCKET, prefix: 'runs/r2' });
    await store.writeJson('summary.json', { kept: true });
    await server.restart();
    expect(await store.readJson('summary.json')).toEqual({ kept: true });
  });

  it('fails a write to a missing bucket for good, naming the bucket, and reads a missing object as an error naming it', async () => {
    const store = createS3Store(s3, { bucket: 'no-such-bucket', prefix: 'runs/r1' });
    const failure = await store.writeJson('summary.json', {}).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({
      type: RESULTS_UNWRITABLE,
      nonRetryable: true,
      message: 'cannot write s3://no-such-bucket/runs/r1/summary.json: no such bucket',
    });
    const writer = await store.createWriter('csv/face.csv');
    await writer.write('a');
    await expect(writer.commit()).rejects.toMatchObject({ type: RESULTS_UNWRITABLE });
    await expect(createS3Store(s3, { bucket: BUCKET, prefix: 'runs/r1' }).readLines('none.jsonl')[Symbol.asyncIterator]().next()).rejects.toThrow(
      `s3://${BUCKET}/runs/r1/none.jsonl: no such object (404)`,
    );
  });
});
