/**
 * Predictions and artifacts are files served with Content-Length, a strong ETag and byte ranges:
 * a client can resume a download, and knows when the file it resumes is still the same one.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startHumeEmulator, type HumeEmulator } from '../../src/emulator/index.js';
import { submit, waitForStatus } from './helpers.js';

let emulator: HumeEmulator;
let jobId: string;
beforeAll(async () => {
  emulator = await startHumeEmulator({ timing: { queuedMs: 0, processingMs: 0 } });
  jobId = await submit(emulator, {
    text: ['Ranges let a client resume.', 'Anna met Bob in Paris.', 'A third text, for a few more bytes.'],
    models: { language: {}, ner: {} },
  });
  await waitForStatus(emulator, jobId);
});
afterAll(() => emulator.close());

interface Got { status: number; headers: Headers; bytes: Buffer }
const get = async (what: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Got> => {
  const res = await fetch(`${emulator.url}/v0/batch/jobs/${jobId}/${what}`, { method, headers: { 'x-hume-api-key': emulator.apiKey, ...headers } });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
};

describe.each(['predictions', 'artifacts'])('%s', (what) => {
  let whole: Got;
  beforeAll(async () => {
    whole = await get(what);
  });

  it('is served whole with Content-Length, Accept-Ranges and an ETag that stays the same', async () => {
    expect(whole.status).toBe(200);
    expect(whole.bytes.length).toBeGreaterThan(200);
    expect(whole.headers.get('content-length')).toBe(String(whole.bytes.length));
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(whole.headers.get('etag')).toMatch(/^"[^"]+"$/);
    const again = await get(what);
    expect(again.headers.get('etag')).toBe(whole.headers.get('etag'));
    expect(again.bytes.equals(whole.bytes)).toBe(true);
    const head = await get(what, {}, 'HEAD');
    expect(head.bytes.length).toBe(0);
    expect(head.headers.get('content-length')).toBe(String(whole.bytes.length));
    expect(head.headers.get('etag')).toBe(whole.headers.get('etag'));
  });

  it('answers bytes=a-b, a- and -n with 206 slices that concatenate to the whole', async () => {
    const size = whole.bytes.length;
    const slices = [await get(what, { range: 'bytes=0-99' }), await get(what, { range: `bytes=100-${size - 51}` }), await get(what, { range: 'bytes=-50' })];
    expect(slices.map((s) => s.status)).toEqual([206, 206, 206]);
    expect(slices.map((s) => s.headers.get('content-range'))).toEqual([
      `bytes 0-99/${size}`, `bytes 100-${size - 51}/${size}`, `bytes ${size - 50}-${size - 1}/${size}`,
    ]);
    expect(slices.map((s) => s.headers.get('content-length'))).toEqual(['100', String(size - 150), '50']);
    expect(Buffer.concat(slices.map((s) => s.bytes)).equals(whole.bytes)).toBe(true);

    const rest = await get(what, { range: `bytes=${size - 10}-` });
    expect(rest).toMatchObject({ status: 206 });
    expect(rest.bytes.equals(whole.bytes.subarray(size - 10))).toBe(true);
    const past = await get(what, { range: `bytes=${size - 1}-${size + 1000}` });
    expect(past.headers.get('content-range')).toBe(`bytes ${size - 1}-${size - 1}/${size}`);
  });

  it('answers 416 with Content-Range bytes */size when the range starts past the end', async () => {
    const size = whole.bytes.length;
    for (const range of [`bytes=${size}-`, `bytes=${size + 5}-${size + 10}`, 'bytes=-0']) {
      const res = await get(what, { range });
      expect(res.status).toBe(416);
      expect(res.headers.get('content-range')).toBe(`bytes */${size}`);
    }
  });

  it('honours If-Range: the same ETag gets the range, another gets the whole file', async () => {
    const etag = whole.headers.get('etag') ?? '';
    expect((await get(what, { range: 'bytes=0-9', 'if-range': etag })).status).toBe(206);
    const changed = await get(what, { range: 'bytes=0-9', 'if-range': '"some-other-version"' });
    expect(changed.status).toBe(200);
    expect(changed.bytes.equals(whole.bytes)).toBe(true);
  });

  it('ignores a malformed or multi-part Range and serves the whole file', async () => {
    for (const range of ['bytes=9-3', 'bytes=0-1,5-6', 'items=0-1']) {
      const res = await get(what, { range });
      expect(res.status).toBe(200);
      expect(res.bytes.equals(whole.bytes)).toBe(true);
    }
  });
});

describe('stats', () => {
  it('count the ranges honoured and the bytes served', async () => {
    const e = await startHumeEmulator({ timing: { queuedMs: 0, processingMs: 0 } });
    try {
      const id = await submit(e, { text: ['count me'] });
      await waitForStatus(e, id);
      const headers = { 'x-hume-api-key': e.apiKey };
      const whole = Buffer.from(await (await fetch(`${e.url}/v0/batch/jobs/${id}/predictions`, { headers })).arrayBuffer());
      await (await fetch(`${e.url}/v0/batch/jobs/${id}/predictions`, { headers: { ...headers, range: 'bytes=0-4' } })).arrayBuffer();
      await (await fetch(`${e.url}/v0/batch/jobs/${id}/predictions`, { headers: { ...headers, range: 'bytes=-3' } })).arrayBuffer();
      // Bytes are counted when the server's file stream closes, which may come after the client has read them.
      await vi.waitFor(() => expect(e.stats()).toMatchObject({ rangeRequests: 2, bytesServed: whole.length + 5 + 3 }));
    } finally {
      await e.close();
    }
  });
});
