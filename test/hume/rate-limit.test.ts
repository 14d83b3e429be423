/**
 * The process-wide request limiter, seen from the server: how many requests arrive per second
 * when many calls from several clients race, what a 429 storm gets, and how a waiting call ends.
 * Counts per time window with tolerance, never tight timings.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startHumeEmulator, type HumeEmulator } from '../../src/emulator/index.js';
import { HumeClient, type HumeClientOptions } from '../../src/hume/client.js';
import { HumeError } from '../../src/hume/errors.js';
import { DEFAULT_429_PAUSE_MS, DEFAULT_RATE_LIMIT, RequestLimiterBusy, RequestRateLimiter, sharedRateLimiter } from '../../src/hume/rate-limit.js';
import { API_KEY, completedJob, sendJson, startRecordingProxy, startServer, type TestServer } from './helpers.js';

const JOB_ID = '7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
/** Requests that were on the wire before the client read a 429 may arrive just after it. */
const IN_FLIGHT_MS = 100;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** Every endpoint the client has, answered like Hume would. */
async function startHume(): Promise<TestServer> {
  const server = await startServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/v0/batch/jobs') return req.method === 'POST' ? sendJson(res, 200, { job_id: JOB_ID }) : sendJson(res, 200, []);
    if (path === `/v0/batch/jobs/${JOB_ID}`) return sendJson(res, 200, completedJob(JOB_ID));
    if (path === `/v0/batch/jobs/${JOB_ID}/predictions`) return sendJson(res, 200, []);
    if (path === `/v0/batch/jobs/${JOB_ID}/artifacts`) return void res.writeHead(200, { 'content-type': 'application/zip' }).end('PK');
    sendJson(res, 404, { message: 'job not found' });
  });
  closers.push(() => server.close());
  return server;
}

const clientsOf = (count: number, options: Omit<HumeClientOptions, 'apiKey'>, apiKey = API_KEY) =>
  Array.from({ length: count }, () => new HumeClient({ apiKey, ...options }));

/** The most arrival times (ms, sorted) that fall in any window of `windowMs`. */
function maxInWindow(times: number[], windowMs: number): number {
  let max = 0;
  for (let start = 0, end = 0; end < times.length; end++) {
    while ((times[end] as number) - (times[start] as number) >= windowMs) start++;
    max = Math.max(max, end - start + 1);
  }
  return max;
}

const arrivals = (server: TestServer) => server.requests.map((r) => r.receivedAt).sort((a, b) => a - b);

describe('one request rate for the whole process', () => {
  it('holds several clients of one server, together, to the configured rate on every endpoint', async ({ annotate }) => {
    const server = await startHume();
    const RATE = 20;
    const BURST = 5;
    const clients = clientsOf(4, { baseUrl: server.url, maxRequestsPerSecond: RATE, maxRequestBurst: BURST });
    const dir = mkdtempSync(join(tmpdir(), 'rate-limit-'));
    const calls = [
      (c: HumeClient) => c.listJobs(),
      (c: HumeClient) => c.startJob({ text: ['hello'] }),
      (c: HumeClient) => c.getJob(JOB_ID),
      (c: HumeClient) => c.getPredictions(JOB_ID),
      (c: HumeClient, i: number) => c.downloadPredictions(JOB_ID, join(dir, `p-${i}.json`)),
      (c: HumeClient, i: number) => c.downloadArtifacts(JOB_ID, join(dir, `a-${i}.zip`)),
    ];
    // 60 calls at once: 4 clients × 15, every endpoint in turn.
    await Promise.all(Array.from({ length: 60 }, (_, i) => calls[i % calls.length]!(clients[i % clients.length]!, i)));

    const times = arrivals(server);
    expect(times).toHaveLength(60);
    const spanS = ((times.at(-1) as number) - (times[0] as number)) / 1000;
    const steady = (times.length - BURST) / spanS;
    const peak = maxInWindow(times, 1000);
    await annotate(`60 requests in ${spanS.toFixed(2)} s: ${steady.toFixed(1)} req/s after the burst, at most ${peak} in any 1 s (rate ${RATE}, burst ${BURST})`);
    // A token bucket lets at most burst + rate × 1 s through in any second; +2 for arrival jitter.
    expect(peak).toBeLessThanOrEqual(BURST + RATE + 2);
    expect(steady).toBeLessThanOrEqual(RATE * 1.1);
    // ...and is a rate, not a queue that starves: the calls go about as fast as allowed.
    expect(steady).toBeGreaterThan(RATE * 0.6);
  });

  it('under a 429 storm, sends nothing before Retry-After has passed and stays far under the rate', async ({ annotate }) => {
    const emulator: HumeEmulator = await startHumeEmulator();
    const proxy = await startRecordingProxy(emulator.url);
    closers.push(() => proxy.close(), () => emulator.close());
    // Every request answered 429, Retry-After: 1, for 2.5 s.
    emulator.setFaults({ tooManyRequestsRate: 1, tooManyRequestsBurst: 1, retryAfterSeconds: 1 });
    const stormStart = performance.now();
    let stormEnd = Infinity;
    const calm = setTimeout(() => {
      emulator.setFaults({ tooManyRequestsRate: 0 });
      stormEnd = performance.now();
    }, 2_500);
    // Three clients with the default limit, six callers each that retry a 429 at once: the worst
    // neighbours a worker's activities could be.
    const clients = clientsOf(3, { baseUrl: proxy.url }, emulator.apiKey);
    const hammer = async (client: HumeClient): Promise<number> => {
      for (let attempt = 1; ; attempt++) {
        try {
          await client.listJobs();
          return attempt;
        } catch (e) {
          if (!(e instanceof HumeError && e.code === 'HUME_RATE_LIMITED')) throw e;
        }
      }
    };
    const attempts = await Promise.all(clients.flatMap((client) => Array.from({ length: 6 }, () => hammer(client))));
    clearTimeout(calm);

    const throttled = proxy.answers.filter((a) => a.status === 429);
    const times = arrivals(proxy);
    // No request that left after a 429 arrived before that 429's Retry-After had passed.
    const early = times.filter((t) => throttled.some((a) => t > a.answeredAt + IN_FLIGHT_MS && t < a.answeredAt + (a.retryAfterMs ?? 0)));
    const inStorm = times.filter((t) => t > (throttled[0]?.answeredAt ?? 0) + IN_FLIGHT_MS && t < stormEnd);
    const stormS = (stormEnd - stormStart) / 1000;
    const peak = maxInWindow(times, 1000);
    await annotate(
      `${times.length} requests, ${throttled.length} answered 429; during the ${stormS.toFixed(1)} s storm ` +
        `${inStorm.length} after the first burst (${(inStorm.length / stormS).toFixed(1)} req/s); at most ${peak} in any 1 s; ` +
        `${early.length} before Retry-After`,
    );
    // Every call got through in the end; each failed attempt was one of the 429s.
    expect(attempts.reduce((n, a) => n + a, 0)).toBe(times.length);
    expect(times.length - attempts.length).toBe(throttled.length);
    expect(throttled.length).toBeGreaterThanOrEqual(3);
    expect(throttled.every((a) => a.retryAfterMs === 1_000)).toBe(true);
    expect(early).toEqual([]);
    // Once throttled, the process probes about once per Retry-After, not at its rate.
    expect(inStorm.length).toBeLessThanOrEqual(Math.ceil(stormS) + 1);
    expect(peak).toBeLessThanOrEqual(DEFAULT_RATE_LIMIT.requestsPerSecond + DEFAULT_RATE_LIMIT.burst + 1);
    expect(emulator.stats().faultsInjected).toBe(throttled.length);
  });

  it('pauses for a default second after a 429 without a usable Retry-After', async () => {
    let throttle = true;
    const server = await startServer((_req, res) => {
      if (throttle) return sendJson(res, 429, { message: 'slow down' }, { 'retry-after': 'soon' });
      sendJson(res, 200, []);
    });
    closers.push(() => server.close());
    const [first, second] = clientsOf(2, { baseUrl: server.url });
    await expect(first!.listJobs()).rejects.toMatchObject({ code: 'HUME_RATE_LIMITED' });
    throttle = false;
    await second!.listJobs();
    const [a, b] = arrivals(server);
    expect(b! - a!).toBeGreaterThanOrEqual(DEFAULT_429_PAUSE_MS - 10);
  });
});

describe('waiting for a slot', () => {
  it('an aborted signal ends a waiting call at once with its reason, and sends nothing', async () => {
    const server = await startHume();
    const [client] = clientsOf(1, { baseUrl: server.url, maxRequestsPerSecond: 0.5, maxRequestBurst: 1 });
    await client!.getJob(JOB_ID); // takes the only slot: the next one comes in 2 s
    const controller = new AbortController();
    const reason = new Error('activity cancelled');
    const waiting = client!.getJob(JOB_ID, { signal: controller.signal });
    const abortedAt = performance.now() + 50;
    setTimeout(() => controller.abort(reason), 50);
    await expect(waiting).rejects.toBe(reason);
    expect(performance.now() - abortedAt).toBeLessThan(500);
    // An already aborted signal never queues.
    await expect(client!.listJobs({}, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(server.requests).toHaveLength(1);
  });

  it('a call that may wait only so long is refused with nothing sent when no slot frees in time, and waits for one that does', async () => {
    const server = await startHume();
    // One request every 2 s.
    const [client] = clientsOf(1, { baseUrl: server.url, maxRequestsPerSecond: 0.5, maxRequestBurst: 1 });
    await client!.startJob({ text: ['first'] }, { maxWaitMs: 0 }); // the only slot
    await expect(client!.startJob({ text: ['second'] }, { maxWaitMs: 0 })).rejects.toBeInstanceOf(RequestLimiterBusy);
    const refusedAt = performance.now();
    await expect(client!.startJob({ text: ['third'] }, { maxWaitMs: 500 })).rejects.toThrow('the request limiter had no free slot in time');
    expect(performance.now() - refusedAt).toBeGreaterThanOrEqual(490);
    expect(server.requests).toHaveLength(1);
    // A refused wait gave its place up: the next one is first in line and gets the slot when it frees.
    expect(sharedRateLimiter(server.url, { requestsPerSecond: 0.5, burst: 1 }).waiting).toBe(0);
    await client!.startJob({ text: ['fourth'] }, { maxWaitMs: 5_000 });
    expect(server.requests).toHaveLength(2);
    const times = arrivals(server);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(1_900);
    expect(times[1]! - times[0]!).toBeLessThan(3_000);
    // A bound no timer can hold is refused before anything waits; Infinity is no bound.
    for (const maxWaitMs of [-1, Number.NaN, 2 ** 31]) {
      await expect(client!.startJob({ text: ['odd'] }, { maxWaitMs })).rejects.toThrow(RangeError);
    }
    expect(server.requests).toHaveLength(2);
  });

  it('does not count against the call timeout', async () => {
    const server = await startHume();
    const [client] = clientsOf(1, { baseUrl: server.url, timeoutMs: 300, maxRequestsPerSecond: 2, maxRequestBurst: 1 });
    // The third call waits ~1 s for its slot, far past its 300 ms timeout, and still succeeds.
    const jobs = await Promise.all([1, 2, 3].map(() => client!.getJob(JOB_ID)));
    expect(jobs.map((j) => j.job_id)).toEqual([JOB_ID, JOB_ID, JOB_ID]);
    const times = arrivals(server);
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(900);
  });

  it('serves waiters in order, and an aborted one gives its place up', async () => {
    const limiter = new RequestRateLimiter({ requestsPerSecond: 20, burst: 1 });
    await limiter.acquire();
    const order: string[] = [];
    const controller = new AbortController();
    const a = limiter.acquire().then(() => order.push('a'));
    const b = limiter.acquire(controller.signal).then(() => order.push('b'), () => order.push('b aborted'));
    const c = limiter.acquire().then(() => order.push('c'));
    expect(limiter.waiting).toBe(3);
    controller.abort();
    await Promise.all([a, b, c]);
    expect(order).toEqual(['b aborted', 'a', 'c']);
    expect(limiter.waiting).toBe(0);
  });
});

describe('sharing', () => {
  it('one limiter per server origin; the strictest settings apply; Infinity opts a client out', () => {
    const one = sharedRateLimiter('http://share.test:1/v0', { requestsPerSecond: 50, burst: 20 });
    const same = sharedRateLimiter('http://share.test:1/other/', { requestsPerSecond: 5, burst: 30 });
    const other = sharedRateLimiter('http://share.test:2', { requestsPerSecond: 50, burst: 20 });
    expect(same).toBe(one);
    expect(other).not.toBe(one);
    expect(one.settings).toEqual({ requestsPerSecond: 5, burst: 20 });
    expect(other.settings).toEqual({ requestsPerSecond: 50, burst: 20 });
    expect(() => new HumeClient({ apiKey: API_KEY, baseUrl: 'http://share.test:1', maxRequestsPerSecond: Infinity })).not.toThrow();
    expect(one.settings.requestsPerSecond).toBe(5);
  });
});
