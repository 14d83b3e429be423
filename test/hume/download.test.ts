import { createHash, randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HumeClient } from '../../src/hume/client.js';
import { API_KEY, sendJson, startServer, type TestServer } from './helpers.js';

const JOB = '5d7e9f10-2b3c-4d5e-8f90-a1b2c3d4e5f6';
const PREDICTIONS_JSON = Buffer.from(JSON.stringify([{ source: { type: 'text' }, results: { predictions: [], errors: [] } }]));
const ZIP = randomBytes(5 * 1024 * 1024);

/** How the server answers a download, per test. */
let reply: (res: ServerResponse) => void;
let server: TestServer;
let client: HumeClient;
let root: string;
/** A fresh, empty folder per test. */
let dir: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'hume-download-'));
  server = await startServer((_req, res) => reply(res));
  client = new HumeClient({ apiKey: API_KEY, baseUrl: server.url, timeoutMs: 2_000, idleTimeoutMs: 500 });
});
beforeEach(async () => {
  dir = await mkdtemp(join(root, 'case-'));
});
afterAll(async () => {
  await server.close();
  await rm(root, { recursive: true, force: true });
});

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Sends the first half of `data` in a 200 response, then does `then` to the connection. */
const halfThen = (data: Buffer, then: (res: ServerResponse) => void) => (res: ServerResponse) => {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(data.length) });
  res.write(data.subarray(0, data.length / 2), () => then(res));
};

describe('downloads', () => {
  it('streams the raw predictions JSON to a file, creating its folder', async () => {
    reply = (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(PREDICTIONS_JSON);
    const dest = join(dir, 'jobs', 'b1', 'predictions.json');
    const result = await client.downloadPredictions(JOB, dest);
    expect(result).toEqual({ path: dest, bytes: PREDICTIONS_JSON.length, sha256: sha256(PREDICTIONS_JSON) });
    expect(await readFile(dest)).toEqual(PREDICTIONS_JSON);
    expect(server.requests.at(-1)).toMatchObject({ method: 'GET', url: `/v0/batch/jobs/${JOB}/predictions` });
    expect(server.requests.at(-1)!.headers).toMatchObject({ 'x-hume-api-key': API_KEY, accept: 'application/json' });
  });

  it('streams the artifacts zip to a file, chunked, with the right sha256', async () => {
    reply = (res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      for (let i = 0; i < ZIP.length; i += 64 * 1024) res.write(ZIP.subarray(i, i + 64 * 1024));
      res.end();
    };
    const dest = join(dir, 'artifacts.zip');
    const result = await client.downloadArtifacts(JOB, dest);
    expect(result).toEqual({ path: dest, bytes: ZIP.length, sha256: sha256(ZIP) });
    expect(sha256(await readFile(dest))).toBe(sha256(ZIP));
    expect(server.requests.at(-1)!.url).toBe(`/v0/batch/jobs/${JOB}/artifacts`);
    expect(await readdir(dir)).toEqual(['artifacts.zip']);
  });

  it.each([
    ['connection cut mid-body', 'HUME_NETWORK', halfThen(ZIP, (res) => res.socket?.destroy()), /network error/],
    ['body stalls', 'HUME_TIMEOUT', halfThen(ZIP, () => undefined), /timed out: no byte moved for 0.5 s \(idle timeout\)$/],
  ])('%s: throws a retryable %s, keeps the partial file for a resume and an older download untouched', async (_name, code, handler, message) => {
    reply = handler;
    const dest = join(dir, 'artifacts.zip');
    await writeFile(dest, 'previous complete download');
    const failure = client.downloadArtifacts(JOB, dest);
    await expect(failure).rejects.toMatchObject({ code, retryable: true, call: `downloadArtifacts(${JOB})` });
    await expect(failure).rejects.toThrow(message);
    expect(await readdir(dir)).toEqual(['artifacts.zip', 'artifacts.zip.partial', 'artifacts.zip.partial.json']);
    expect(await readFile(dest, 'utf8')).toBe('previous complete download');
    const partial = await readFile(join(dir, 'artifacts.zip.partial'));
    expect(partial.length).toBeGreaterThan(0);
    expect(ZIP.subarray(0, partial.length).equals(partial)).toBe(true);
  });

  it('a body shorter than its Content-Length is a retryable network error, not a complete file', async () => {
    // The connection closes cleanly (FIN, no reset) after half of the promised bytes.
    reply = halfThen(ZIP, (res) => res.socket?.end());
    const dest = join(dir, 'artifacts.zip');
    await expect(client.downloadArtifacts(JOB, dest)).rejects.toMatchObject({ code: 'HUME_NETWORK', retryable: true });
    expect(await readdir(dir)).not.toContain('artifacts.zip');
  });

  it('an error status leaves no partial file and an older download untouched', async () => {
    reply = (res) => sendJson(res, 400, { message: 'Job is still queued' });
    const dest = join(dir, 'artifacts.zip');
    await writeFile(dest, 'previous complete download');
    await expect(client.downloadArtifacts(JOB, dest)).rejects.toMatchObject({ code: 'HUME_BAD_REQUEST', retryable: false });
    expect(await readdir(dir)).toEqual(['artifacts.zip']);
    expect(await readFile(dest, 'utf8')).toBe('previous complete download');
  });

  it('never stores a 202 or 204 as the file: a retryable error, nothing written', async () => {
    for (const status of [202, 204]) {
      reply = (res) => (status === 204 ? res.writeHead(204).end() : sendJson(res, 202, []));
      const dest = join(dir, `predictions-${status}.json`);
      await expect(client.downloadPredictions(JOB, dest)).rejects.toMatchObject({ code: 'HUME_HTTP_ERROR', retryable: true, status });
      expect((await readdir(dir)).filter((name) => name.startsWith(`predictions-${status}`))).toEqual([]);
    }
  });

  it('without resumeFromBytes, starts from the first byte and discards an old partial file', async () => {
    const dest = join(dir, 'predictions.json');
    await writeFile(`${dest}.partial`, 'stale bytes of another attempt');
    await writeFile(`${dest}.partial.json`, JSON.stringify({ validator: '"old"', total: 999 }));
    reply = (res) => res.writeHead(200, { 'content-type': 'application/json', etag: '"v1"' }).end(PREDICTIONS_JSON);
    expect(await client.downloadPredictions(JOB, dest)).toMatchObject({ bytes: PREDICTIONS_JSON.length, sha256: sha256(PREDICTIONS_JSON) });
    expect(server.requests.at(-1)!.headers.range).toBeUndefined();
    expect(await readdir(dir)).toEqual(['predictions.json']);
  });
});
