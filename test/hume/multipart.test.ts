import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance } from 'fastify';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HumeClient } from '../../src/hume/client.js';
import { API_KEY } from './helpers.js';

type Part =
  | { kind: 'field'; name: string; value: string }
  | { kind: 'file'; name: string; filename: string; mimetype: string; bytes: number; md5: string };

/** What the server saw of each upload: headers and parts in order, files hashed as they stream in. */
const uploads: { apiKey: unknown; contentType: unknown; parts: Part[] }[] = [];

let app: FastifyInstance;
let client: HumeClient;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hume-multipart-'));
  app = Fastify();
  await app.register(multipart, { limits: { fileSize: 200 * 1024 * 1024, files: 200 } });
  app.post('/v0/batch/jobs', async (req) => {
    const parts: Part[] = [];
    for await (const part of req.parts()) {
      if (part.type === 'field') {
        parts.push({ kind: 'field', name: part.fieldname, value: String(part.value) });
        continue;
      }
      const md5 = createHash('md5');
      let bytes = 0;
      for await (const chunk of part.file as AsyncIterable<Buffer>) {
        md5.update(chunk);
        bytes += chunk.length;
      }
      parts.push({ kind: 'file', name: part.fieldname, filename: part.filename, mimetype: part.mimetype, bytes, md5: md5.digest('hex') });
    }
    uploads.push({ apiKey: req.headers['x-hume-api-key'], contentType: req.headers['content-type'], parts });
    return { job_id: `job-${uploads.length}` };
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  client = new HumeClient({ apiKey: API_KEY, baseUrl: url, timeoutMs: 120_000 });
});
afterAll(async () => {
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

describe('startJobWithFiles', () => {
  it('sends the json field first, then one file part per file with its filename and exact bytes', async () => {
    const wav = randomBytes(100_000);
    const png = randomBytes(3_000);
    await writeFile(join(dir, 'clip.wav'), wav);
    await writeFile(join(dir, 'face.PNG'), png);
    const request = { models: { prosody: { granularity: 'word' as const } }, transcription: null, callback_url: 'https://cb.test/x' };

    const jobId = await client.startJobWithFiles(
      [{ path: join(dir, 'clip.wav') }, { path: join(dir, 'face.PNG'), filename: 'renamed.png' }],
      request,
    );

    expect(jobId).toBe(`job-${uploads.length}`);
    const upload = uploads.at(-1)!;
    expect(upload.apiKey).toBe(API_KEY);
    expect(upload.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(upload.parts).toEqual([
      { kind: 'field', name: 'json', value: JSON.stringify(request) },
      { kind: 'file', name: 'file', filename: 'clip.wav', mimetype: 'audio/wav', bytes: wav.length, md5: md5(wav) },
      { kind: 'file', name: 'file', filename: 'renamed.png', mimetype: 'image/png', bytes: png.length, md5: md5(png) },
    ]);
  });

  it('sends no json part without a request, and honours contentType', async () => {
    await writeFile(join(dir, 'blob.bin'), 'abc');
    await client.startJobWithFiles([{ path: join(dir, 'blob.bin'), contentType: 'audio/x-custom' }]);
    expect(uploads.at(-1)!.parts).toEqual([
      { kind: 'file', name: 'file', filename: 'blob.bin', mimetype: 'audio/x-custom', bytes: 3, md5: md5(Buffer.from('abc')) },
    ]);
  });

  it('names a directory passed as a file', async () => {
    await expect(client.startJobWithFiles([{ path: dir }])).rejects.toThrow(
      `Hume startJobWithFiles: cannot read local file ${dir}: not a regular file`,
    );
  });

  it('names a missing local file, without sending anything', async () => {
    const before = uploads.length;
    const missing = join(dir, 'nope', 'missing.wav');
    const call = client.startJobWithFiles([{ path: missing }]);
    await expect(call).rejects.toMatchObject({ code: 'HUME_INVALID_REQUEST', retryable: false });
    await expect(call).rejects.toThrow(`Hume startJobWithFiles: cannot read local file ${missing}: ENOENT`);
    expect(uploads.length).toBe(before);
  });

  // 100 MiB, Hume's per-file maximum: garbage chunks awaiting GC (client and server side) peak
  // at ~35 MB whatever the file size, so a big file separates streaming from buffering clearly.
  it('streams a 100 MiB file from disk without holding it in memory', async () => {
    const size = 100 * 1024 * 1024;
    const path = join(dir, 'big.mp4');
    const hash = createHash('md5');
    await pipeline(
      (async function* () {
        for (let written = 0; written < size; written += 1024 * 1024) {
          const chunk = randomBytes(1024 * 1024);
          hash.update(chunk);
          yield chunk;
        }
      })(),
      createWriteStream(path),
    );
    const expectedMd5 = hash.digest('hex');

    // Sample memory while the upload runs, both the client and the (streaming) server side.
    const base = process.memoryUsage();
    let peakArrayBuffers = 0;
    let peakRss = 0;
    const sampler = setInterval(() => {
      const now = process.memoryUsage();
      peakArrayBuffers = Math.max(peakArrayBuffers, now.arrayBuffers - base.arrayBuffers);
      peakRss = Math.max(peakRss, now.rss - base.rss);
    }, 2);
    try {
      await client.startJobWithFiles([{ path }]);
    } finally {
      clearInterval(sampler);
    }

    expect(uploads.at(-1)!.parts).toEqual([
      { kind: 'file', name: 'file', filename: 'big.mp4', mimetype: 'video/mp4', bytes: size, md5: expectedMd5 },
    ]);
    expect(peakArrayBuffers).toBeLessThan(size / 2);
    expect(peakRss).toBeLessThan(size / 2);
  });
});
