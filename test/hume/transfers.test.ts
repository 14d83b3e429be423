/**
 * Transfers on a slow link (issue 12): through a real throttling TCP proxy, uploads and downloads
 * that take many times the client's `timeoutMs` complete; a link that stops moving bytes trips
 * the idle timeout; a download cut mid-body resumes from where its progress said it was.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { HumeClient, type HumeClientOptions } from '../../src/hume/client.js';
import { HumeError } from '../../src/hume/errors.js';
import { RequestLimiterBusy } from '../../src/hume/rate-limit.js';
import { sharedTransferSlots } from '../../src/hume/transfer-slots.js';
import { startThrottleProxy, type ThrottleProxy } from '../helpers/throttle-proxy.js';
import { API_KEY, completedJob, sendJson, startFileServer, startServer, type FileServer } from './helpers.js';

const JOB = '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9';
const MB = 1024 * 1024;
/** Far shorter than any transfer below: only a call with a total deadline would fail. */
const TIMEOUT_MS = 500;

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

let root: string;
let dir: string;
/** Closed after each test, in reverse order. */
let cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'hume-transfers-'));
});
beforeEach(async () => {
  dir = await mkdtemp(join(root, 'case-'));
});
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A server behind a throttled link, and a client of it with a tiny total deadline. */
async function slowLink<S extends { url: string; close(): Promise<void> }>(
  server: S,
  bytesPerSecond: { clientToServer?: number; serverToClient?: number },
  options: Partial<HumeClientOptions> = {},
): Promise<{ server: S; link: ThrottleProxy; client: HumeClient }> {
  cleanups.push(() => server.close());
  const link = await startThrottleProxy({ target: server.url, bytesPerSecond });
  cleanups.push(() => link.close());
  const client = new HumeClient({ apiKey: API_KEY, baseUrl: link.url, timeoutMs: TIMEOUT_MS, maxRequestsPerSecond: Infinity, ...options });
  return { server, link, client };
}

/** The call's error, which must be a HumeError. */
async function failure(promise: Promise<unknown>): Promise<HumeError> {
  const e = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(e).toBeInstanceOf(HumeError);
  return e as HumeError;
}

const isIncreasing = (counts: number[]) => counts.every((n, i) => i === 0 || n > (counts[i - 1] as number));

describe('no total deadline on transfers', () => {
  it(`downloads 3 MB at 1.5 MB/s (~2 s, 4× timeoutMs), reporting growing progress`, async () => {
    const content = randomBytes(3 * MB);
    const { client } = await slowLink(await startFileServer(content), { serverToClient: 1.5 * MB });
    const progress: number[] = [];
    const started = performance.now();
    const dest = join(dir, 'predictions.json');

    const result = await client.downloadPredictions(JOB, dest, { onProgress: (n) => progress.push(n) });

    expect(performance.now() - started).toBeGreaterThan(4 * TIMEOUT_MS);
    expect(result).toEqual({ path: dest, bytes: content.length, sha256: sha256(content) });
    expect(sha256(await readFile(dest))).toBe(sha256(content));
    expect(progress.length).toBeGreaterThan(10);
    expect(isIncreasing(progress)).toBe(true);
    expect(progress.at(-1)).toBe(content.length);
    expect(await readdir(dir)).toEqual(['predictions.json']);
  });

  it('uploads a 3 MB file at 1.5 MB/s, reporting growing progress up to the whole body', async () => {
    const file = randomBytes(3 * MB);
    await writeFile(join(dir, 'clip.mp4'), file);
    const { server, client } = await slowLink(await startServer((_req, res) => sendJson(res, 200, { job_id: JOB })), {
      clientToServer: 1.5 * MB,
    });
    const progress: number[] = [];
    const started = performance.now();

    const jobId = await client.startJobWithFiles([{ path: join(dir, 'clip.mp4') }], undefined, { onProgress: (n) => progress.push(n) });

    expect(performance.now() - started).toBeGreaterThan(4 * TIMEOUT_MS);
    expect(jobId).toBe(JOB);
    const received = server.requests.at(-1)!;
    expect(received.body.length).toBe(Number(received.headers['content-length']));
    expect(received.body.includes(file)).toBe(true);
    expect(isIncreasing(progress)).toBe(true);
    expect(progress.at(-1)).toBe(received.body.length);
  });

  it('sends a startJob of 3 MB of texts at 1.5 MB/s as one JSON document of known length', async () => {
    const { server, client } = await slowLink(await startServer((_req, res) => sendJson(res, 200, { job_id: JOB })), {
      clientToServer: 1.5 * MB,
    });
    const text = ['é"\n'.repeat(MB / 2), 'plain '.repeat(MB / 4), '∑ '.repeat(MB / 8)];

    expect(await client.startJob({ models: { language: {} }, text })).toBe(JOB);

    const received = server.requests.at(-1)!;
    expect(received.headers['content-type']).toBe('application/json');
    expect(received.body.length).toBe(Number(received.headers['content-length']));
    expect(JSON.parse(received.body.toString('utf8'))).toEqual({ models: { language: {} }, text });
  });
});

describe('idle timeout', () => {
  it('trips when a download body stops moving, and says so', async () => {
    const { client } = await slowLink(await startFileServer(randomBytes(2 * MB), { stallAfter: MB }), {}, { idleTimeoutMs: 400 });
    const e = await failure(client.downloadArtifacts(JOB, join(dir, 'artifacts.zip')));
    expect(e).toMatchObject({ code: 'HUME_TIMEOUT', retryable: true });
    expect(e.message).toBe(`Hume downloadArtifacts(${JOB}): timed out: no byte moved for 0.4 s (idle timeout)`);
  });

  it('trips when an upload stops moving (a server that never reads)', async () => {
    const sockets = new Set<Socket>();
    const deaf = createServer((socket) => {
      sockets.add(socket);
      socket.pause();
    });
    deaf.listen(0, '127.0.0.1');
    await once(deaf, 'listening');
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      deaf.close();
    });
    // More than loopback socket buffers hold, so the sender must stall.
    const file = join(dir, 'big.mp4');
    await writeFile(file, Buffer.alloc(48 * MB, 1));
    const port = (deaf.address() as AddressInfo).port;
    const client = new HumeClient({ apiKey: API_KEY, baseUrl: `http://127.0.0.1:${port}`, idleTimeoutMs: 400, maxRequestsPerSecond: Infinity });
    const progress: number[] = [];

    const e = await failure(client.startJobWithFiles([{ path: file }], undefined, { onProgress: (n) => progress.push(n) }));

    expect(e).toMatchObject({ code: 'HUME_TIMEOUT', retryable: true });
    expect(e.message).toBe('Hume startJobWithFiles: timed out: no byte moved for 0.4 s (idle timeout)');
    expect(progress.at(-1)).toBeLessThan((await stat(file)).size);
  });
});

describe('size-scaled deadline', () => {
  it('trips when a transfer of known size averages less than minBytesPerSecond', async () => {
    const { client } = await slowLink(await startFileServer(randomBytes(MB)), { serverToClient: MB / 2 }, { minBytesPerSecond: MB });
    const e = await failure(client.downloadArtifacts(JOB, join(dir, 'artifacts.zip')));
    expect(e).toMatchObject({ code: 'HUME_TIMEOUT', retryable: true });
    expect(e.message).toBe(`Hume downloadArtifacts(${JOB}): timed out: ${MB} bytes not moved within the deadline of 2 s`);
  });
});

describe('uploads cut mid-body', () => {
  it('are a retryable network error, and the next try sends the whole body again', async () => {
    const file = randomBytes(2 * MB);
    await writeFile(join(dir, 'clip.mp4'), file);
    let tries = 0;
    // The first try is cut after 1 MB of its body; the second is answered.
    const server = await startServer((_req, res) => sendJson(res, 200, { job_id: JOB }));
    server.requests.length = 0;
    const cutting = createServer((socket) => {
      tries++;
      if (tries > 1) {
        const upstream = new URL(server.url);
        const forward = createConnection(Number(upstream.port), upstream.hostname);
        socket.pipe(forward).pipe(socket);
        forward.on('error', () => socket.destroy());
        socket.on('error', () => forward.destroy());
        return;
      }
      let seen = 0;
      socket.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (seen > MB) socket.destroy();
      });
    });
    cutting.listen(0, '127.0.0.1');
    await once(cutting, 'listening');
    cleanups.push(async () => {
      cutting.close();
      await server.close();
    });
    const port = (cutting.address() as AddressInfo).port;
    const client = new HumeClient({ apiKey: API_KEY, baseUrl: `http://127.0.0.1:${port}`, maxRequestsPerSecond: Infinity });
    const upload = () => client.startJobWithFiles([{ path: join(dir, 'clip.mp4') }]);

    expect(await failure(upload())).toMatchObject({ code: 'HUME_NETWORK', retryable: true });
    expect(await upload()).toBe(JOB);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.body.includes(file)).toBe(true);
  });
});

describe('resumable downloads', () => {
  const content = randomBytes(3 * MB);

  /** A download cut by the link after `cutAt` bytes of the response: returns its last progress count. */
  async function cutDownload(client: HumeClient, link: ThrottleProxy, dest: string, cutAt = MB + 12_345): Promise<number> {
    const progress: number[] = [];
    const cut = link.cutAfterServerToClientBytes(cutAt);
    const e = await failure(client.downloadArtifacts(JOB, dest, { onProgress: (n) => progress.push(n) }));
    await cut;
    expect(e).toMatchObject({ code: 'HUME_NETWORK', retryable: true });
    expect(await readdir(dir)).toEqual(['artifacts.zip.partial', 'artifacts.zip.partial.json']);
    const last = progress.at(-1) ?? 0;
    expect(last).toBeGreaterThan(0);
    expect(last).toBeLessThan(content.length);
    return last;
  }

  it('resumes a download cut mid-body from resumeFromBytes with Range and If-Range', async () => {
    const { server, link, client } = await slowLink(await startFileServer(content), { serverToClient: 4 * MB });
    const dest = join(dir, 'artifacts.zip');
    const kept = await cutDownload(client, link, dest);
    const progress: number[] = [];
    const before = link.stats.serverToClient;

    const result = await client.downloadArtifacts(JOB, dest, { resumeFromBytes: kept, onProgress: (n) => progress.push(n) });

    expect(server.requests.at(-1)).toMatchObject({ range: `bytes=${kept}-`, ifRange: '"v1"' });
    expect(result).toEqual({ path: dest, bytes: content.length, sha256: sha256(content) });
    expect(sha256(await readFile(dest))).toBe(sha256(content));
    // Only the rest crossed the link (plus headers), and progress counts the whole file.
    expect(link.stats.serverToClient - before).toBeLessThan(content.length - kept + 1024);
    expect(progress[0]).toBeGreaterThan(kept);
    expect(progress.at(-1)).toBe(content.length);
    expect(await readdir(dir)).toEqual(['artifacts.zip']);
  });

  it('resumes from a point before the end of the partial file, dropping what follows it', async () => {
    const { server, link, client } = await slowLink(await startFileServer(content), { serverToClient: 4 * MB });
    const dest = join(dir, 'artifacts.zip');
    const kept = await cutDownload(client, link, dest);
    const result = await client.downloadArtifacts(JOB, dest, { resumeFromBytes: kept - 1000 });
    expect(server.requests.at(-1)!.range).toBe(`bytes=${kept - 1000}-`);
    expect(result.sha256).toBe(sha256(content));
  });

  it('starts over cleanly when the server ignores Range and answers 200', async () => {
    const { server, link, client } = await slowLink(await startFileServer(content, { honourRange: false }), { serverToClient: 4 * MB });
    const dest = join(dir, 'artifacts.zip');
    const kept = await cutDownload(client, link, dest);
    const result = await client.downloadArtifacts(JOB, dest, { resumeFromBytes: kept });
    expect(server.requests.at(-1)!.range).toBe(`bytes=${kept}-`);
    expect(result).toEqual({ path: dest, bytes: content.length, sha256: sha256(content) });
    expect(sha256(await readFile(dest))).toBe(sha256(content));
  });

  it('starts over when the resource changed (If-Range no longer matches)', async () => {
    const { server, link, client } = await slowLink(await startFileServer(content), { serverToClient: 4 * MB });
    const dest = join(dir, 'artifacts.zip');
    const kept = await cutDownload(client, link, dest);
    server.content = randomBytes(2 * MB);
    server.options.etag = '"v2"';
    const result = await client.downloadArtifacts(JOB, dest, { resumeFromBytes: kept });
    expect(server.requests.at(-1)).toMatchObject({ range: `bytes=${kept}-`, ifRange: '"v1"' });
    expect(result).toEqual({ path: dest, bytes: server.content.length, sha256: sha256(server.content) });
  });

  it('starts over when the server answers 416 (the kept prefix is past its end)', async () => {
    const { server, link, client } = await slowLink(await startFileServer(content), { serverToClient: 4 * MB });
    const dest = join(dir, 'artifacts.zip');
    const kept = await cutDownload(client, link, dest);
    server.content = content.subarray(0, kept - 1);
    const result = await client.downloadArtifacts(JOB, dest, { resumeFromBytes: kept });
    expect(server.requests.slice(-2).map((r) => r.range)).toEqual([`bytes=${kept}-`, undefined]);
    expect(result.sha256).toBe(sha256(server.content));
  });

  it('starts from the first byte when the partial file holds less than resumeFromBytes', async () => {
    const { server, link, client } = await slowLink(await startFileServer(content), { serverToClient: 4 * MB });
    const dest = join(dir, 'artifacts.zip');
    const kept = await cutDownload(client, link, dest);
    const result = await client.downloadArtifacts(JOB, dest, { resumeFromBytes: kept + 1 });
    expect(server.requests.at(-1)!.range).toBeUndefined();
    expect(result.sha256).toBe(sha256(content));
  });
});

/** A client with one transfer slot, held for seconds by a first download (it dribbles 1 MB), so the next transfer surely finds it taken. */
async function holdTheOnlySlot() {
  const server = await startFileServer(randomBytes(MB), { dribble: { bytes: 4 * 1024, everyMs: 20 } });
  const { link, client } = await slowLink(server, {}, { maxConcurrentTransfers: 1 });
  const slots = sharedTransferSlots(link.url, 1);
  const stopFirst = new AbortController();
  let holding!: () => void;
  const firstHoldsTheSlot = new Promise<void>((resolve) => (holding = resolve));
  const first = client.downloadArtifacts(JOB, join(dir, 'first.zip'), { signal: stopFirst.signal, onProgress: () => holding() });
  await firstHoldsTheSlot;
  return { server, client, slots, stopFirst, first };
}

describe('concurrency of transfers', () => {
  it('runs at most maxConcurrentTransfers downloads at once; the others wait their turn and complete', async () => {
    const content = randomBytes(256 * 1024);
    const server = await startFileServer(content, { dribble: { bytes: 32 * 1024, everyMs: 40 } });
    const { client } = await slowLink(server, {}, { maxConcurrentTransfers: 2 });
    const results = await Promise.all(
      [1, 2, 3, 4, 5].map((i) => client.downloadArtifacts(JOB, join(dir, `artifacts-${i}.zip`))),
    );
    expect(results.map((r) => r.sha256)).toEqual(Array(5).fill(sha256(content)));
    expect(server.requests).toHaveLength(5);
    expect(server.maxInFlight).toBe(2);
  });

  it('a wait for a slot ends with the call signal', async () => {
    const { server, client, slots, stopFirst, first } = await holdTheOnlySlot();

    const reason = new Error('activity cancelled');
    const controller = new AbortController();
    const second = client.downloadArtifacts(JOB, join(dir, 'second.zip'), { signal: controller.signal });
    await vi.waitFor(() => expect(slots.waiting).toBe(1));
    controller.abort(reason);
    await expect(second).rejects.toBe(reason);
    expect({ running: slots.running, waiting: slots.waiting }).toEqual({ running: 1, waiting: 0 });

    const stopped = new Error('test over');
    stopFirst.abort(stopped);
    await expect(first).rejects.toBe(stopped);
    expect(server.requests).toHaveLength(1);
    expect(slots.running).toBe(0);
  });

  it('a download that may wait only so long (a fetch inside a workflow task) is refused with nothing sent while every slot stays held, and takes one freed in time', async () => {
    const { server, client, slots, stopFirst, first } = await holdTheOnlySlot();

    await expect(client.downloadPredictions(JOB, join(dir, 'second.json'), { maxWaitMs: 0 })).rejects.toBeInstanceOf(RequestLimiterBusy);
    await expect(client.downloadPredictions(JOB, join(dir, 'second.json'), { maxWaitMs: 300 })).rejects.toThrow('the transfers to Hume had no free slot in time');
    // It gave its place in the queue up.
    expect({ running: slots.running, waiting: slots.waiting }).toEqual({ running: 1, waiting: 0 });
    expect(server.requests).toHaveLength(1);

    const waiting = client.downloadPredictions(JOB, join(dir, 'third.json'), { maxWaitMs: 10_000 });
    await vi.waitFor(() => expect(slots.waiting).toBe(1));
    stopFirst.abort(new Error('test over'));
    await expect(first).rejects.toThrow('test over');
    await expect(waiting).resolves.toMatchObject({ sha256: expect.any(String) });
    expect(server.requests).toHaveLength(2);
  });
});

describe('job details that echo huge texts', () => {
  it('getJob and listJobs parse a job echoing 20 MB of text, keeping the texts only as empty strings', async () => {
    const echoed = { ...completedJob(JOB), request: { ...(completedJob(JOB).request as object), text: ['x'.repeat(20 * MB), 'short'] } };
    const server = await startServer((req, res) => sendJson(res, 200, req.url.startsWith(`/v0/batch/jobs/${JOB}`) ? echoed : [echoed, completedJob('other')]));
    cleanups.push(() => server.close());
    const client = new HumeClient({ apiKey: API_KEY, baseUrl: server.url, timeoutMs: 20_000, maxRequestsPerSecond: Infinity });

    const job = await client.getJob(JOB);
    expect(job.request.text).toEqual(['', '']);
    expect(job.state).toMatchObject({ status: 'COMPLETED', num_predictions: 1 });
    expect(JSON.stringify(job).length).toBeLessThan(2_000);

    const [listed, other] = await client.listJobs();
    expect(listed?.request.text).toEqual(['', '']);
    expect(other?.job_id).toBe('other');
  });
});
