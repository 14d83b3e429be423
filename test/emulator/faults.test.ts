/**
 * Throttling and fault injection: the queued-jobs cap, the rate limit, every fault kind, the
 * deterministic one-shot rules, and the admin HTTP surface that changes them at run time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startHumeEmulator, type HumeEmulator, type HumeEmulatorOptions } from '../../src/emulator/index.js';
import { call, sleep, submit, waitForStatus } from './helpers.js';

const open: HumeEmulator[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close()));
});
async function emulatorWith(options: HumeEmulatorOptions = {}): Promise<HumeEmulator> {
  const e = await startHumeEmulator({ timing: { queuedMs: 0, processingMs: 0 }, ...options });
  open.push(e);
  return e;
}
const list = (e: HumeEmulator) => call(e, '/v0/batch/jobs');

describe('throttling', () => {
  it('answers 429 + Retry-After once maxQueuedJobs jobs are queued', async () => {
    const e = await emulatorWith({ maxQueuedJobs: 2, timing: { queuedMs: 3_000, processingMs: 0 } });
    await submit(e, { text: ['1'] });
    await submit(e, { text: ['2'] });
    const res = await call(e, '/v0/batch/jobs', { json: { text: ['3'] } });
    expect(res.status).toBe(429);
    expect(res.body.message).toContain('maxQueuedJobs');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(e.stats()).toMatchObject({ jobsCreated: 2, throttled: 1 });
  });

  it('frees the queue as jobs start', async () => {
    const e = await emulatorWith({ maxQueuedJobs: 1, timing: { queuedMs: 100, processingMs: 0 } });
    await submit(e, { text: ['1'] });
    expect((await call(e, '/v0/batch/jobs', { json: { text: ['2'] } })).status).toBe(429);
    await sleep(150);
    expect((await call(e, '/v0/batch/jobs', { json: { text: ['2'] } })).status).toBe(200);
  });

  it('rate-limits API requests per second with 429 + Retry-After', async () => {
    const e = await emulatorWith({ rateLimit: 3 });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push(await list(e));
    expect(statuses.map((r) => r.status)).toEqual([200, 200, 200, 429, 429]);
    expect(statuses[3]!.headers.get('retry-after')).toBe('1');
    expect(statuses[3]!.body.message).toContain('rate limit');
    await sleep(1_000);
    expect((await list(e)).status).toBe(200);
  });
});

describe('random faults', () => {
  it('adds latency to API requests', async () => {
    const e = await emulatorWith();
    e.setFaults({ latencyMs: 200 });
    const started = Date.now();
    expect((await list(e)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('answers 5xx at serverErrorRate, with Retry-After; and stops when set back to 0', async () => {
    const e = await emulatorWith({ faults: { serverErrorRate: 1, retryAfterSeconds: 2 } });
    const res = await list(e);
    expect([500, 502, 503]).toContain(res.status);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(res.body.message).toContain('injected');
    e.setFaults({ serverErrorRate: 0 });
    expect((await list(e)).status).toBe(200);
    expect(e.stats().faultsInjected).toBe(1);
  });

  it('resets connections at resetRate', async () => {
    const e = await emulatorWith({ faults: { resetRate: 1 } });
    await expect(list(e)).rejects.toThrow();
    await expect(call(e, '/v0/batch/jobs', { json: { text: ['x'] } })).rejects.toThrow();
    expect(e.stats()).toMatchObject({ jobsCreated: 0, faultsInjected: 2 });
  });

  it('answers 429 bursts: once started, tooManyRequestsBurst requests in a row', async () => {
    const e = await emulatorWith({ faults: { tooManyRequestsRate: 1, tooManyRequestsBurst: 3, retryAfterSeconds: 4 } });
    const first = await list(e);
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('4');
    e.setFaults({ tooManyRequestsRate: 0 });
    expect([(await list(e)).status, (await list(e)).status, (await list(e)).status]).toEqual([429, 429, 200]);
  });

  it('fails jobs at jobFailureRate', async () => {
    const e = await emulatorWith({ faults: { jobFailureRate: 1 } });
    const job = await waitForStatus(e, await submit(e, { text: ['x'] }));
    expect(job.state).toMatchObject({ status: 'FAILED', message: expect.any(String) });
    expect(e.stats().jobsFailed).toBe(1);
  });

  it('draws faults from the seed, so a run replays', async () => {
    const statuses = async (): Promise<number[]> => {
      const e = await emulatorWith({ seed: 5, faults: { serverErrorRate: 0.5 } });
      const out: number[] = [];
      for (let i = 0; i < 20; i++) out.push((await list(e)).status);
      return out;
    };
    const a = await statuses();
    expect(new Set(a).size).toBeGreaterThan(1);
    expect(await statuses()).toEqual(a);
  });
});

describe('one-shot rules', () => {
  it('failNext fails the next N requests of a route, then lets them through', async () => {
    const e = await emulatorWith();
    const id = await submit(e, { text: ['x'] });
    e.failNext({ count: 2, route: 'details', status: 500 });
    expect((await list(e)).status).toBe(200);
    expect((await call(e, `/v0/batch/jobs/${id}`)).status).toBe(500);
    expect((await call(e, `/v0/batch/jobs/${id}`)).status).toBe(500);
    expect((await call(e, `/v0/batch/jobs/${id}`)).status).toBe(200);
    expect(e.stats().requests).toMatchObject({ list: 1, submit: 1, details: 3 });
  });

  it('failNext defaults to 503 on any route, can send Retry-After, and can reset instead', async () => {
    const e = await emulatorWith();
    e.failNext({ count: 1 });
    expect((await list(e)).status).toBe(503);
    e.failNext({ count: 1, status: 429, retryAfterSeconds: 7 });
    const throttled = await list(e);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('7');
    e.failNext({ count: 1, reset: true, route: 'list' });
    await expect(list(e)).rejects.toThrow();
    expect((await list(e)).status).toBe(200);
  });

  it('failNext afterHandling: the submit creates its job but the client sees the failure', async () => {
    const e = await emulatorWith();
    e.failNext({ count: 1, route: 'submit', afterHandling: true });
    const res = await call(e, '/v0/batch/jobs', { json: { text: ['ambiguous'], callback_url: 'http://127.0.0.1:9/cb?key=run-1' } });
    expect(res.status).toBe(503);
    const jobs = (await list(e)).body;
    expect(jobs).toHaveLength(1);
    expect(jobs[0].request.callback_url).toBe('http://127.0.0.1:9/cb?key=run-1');
  });

  it('failNext afterHandling on predictions: the file answer (range headers and all) is swapped for the fault', async () => {
    const e = await emulatorWith();
    const id = await submit(e, { text: ['served from a file'] });
    await waitForStatus(e, id);
    e.failNext({ count: 1, route: 'predictions', afterHandling: true, status: 502 });
    const faulted = await call(e, `/v0/batch/jobs/${id}/predictions`, { headers: { range: 'bytes=0-9' } });
    expect(faulted).toMatchObject({ status: 502, body: { message: expect.any(String) } });
    for (const header of ['etag', 'content-range', 'accept-ranges']) expect(faulted.headers.get(header)).toBeNull();
    const next = await call(e, `/v0/batch/jobs/${id}/predictions`);
    expect(next.status).toBe(200);
    expect(next.body[0].source).toEqual({ type: 'text' });
  });

  it('failNextJobs fails exactly the next N jobs', async () => {
    const e = await emulatorWith();
    e.failNextJobs(2);
    const ids = [await submit(e, { text: ['1'] }), await submit(e, { text: ['2'] }), await submit(e, { text: ['3'] })];
    const states = await Promise.all(ids.map((id) => waitForStatus(e, id)));
    expect(states.map((j) => j.state.status)).toEqual(['FAILED', 'FAILED', 'COMPLETED']);
  });

  it('refuses invalid rules and faults', async () => {
    const e = await emulatorWith();
    expect(() => e.failNext({ count: 0 })).toThrow(/count/);
    expect(() => e.setFaults({ serverErrorRate: 2 })).toThrow(/serverErrorRate/);
    expect(() => e.failNextJobs(0)).toThrow();
  });
});

describe('admin HTTP surface', () => {
  it('reads and changes faults, reads stats, and queues one-shot rules from another process', async () => {
    const e = await emulatorWith();
    expect((await call(e, '/_emulator/faults')).body).toMatchObject({ serverErrorRate: 0, latencyMs: 0 });
    const put = await call(e, '/_emulator/faults', { method: 'PUT', json: { serverErrorRate: 1 } });
    expect(put).toMatchObject({ status: 200, body: { serverErrorRate: 1 } });
    expect((await list(e)).status).toBeGreaterThanOrEqual(500);
    await call(e, '/_emulator/faults', { method: 'PUT', json: { serverErrorRate: 0 } });

    const bad = await call(e, '/_emulator/faults', { method: 'PUT', json: { resetRate: 'often' } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('resetRate');

    expect((await call(e, '/_emulator/fail-next', { json: { count: 1, route: 'list', status: 502 } })).status).toBe(200);
    expect((await list(e)).status).toBe(502);
    expect((await call(e, '/_emulator/fail-next', { json: { count: 1, route: 'nowhere' } })).status).toBe(400);

    expect((await call(e, '/_emulator/fail-next-jobs', { json: { count: 1, message: 'boom' } })).status).toBe(200);
    const job = await waitForStatus(e, await submit(e, { text: ['x'] }));
    expect(job.state.message).toBe('boom');

    const stats = (await call(e, '/_emulator/stats')).body;
    expect(stats).toMatchObject({ jobsCreated: 1, jobsFailed: 1, faultsInjected: 2, requests: { list: 2, submit: 1 } });
    expect(stats.rssBytes).toBeGreaterThan(10 * 1024 * 1024); // this process's resident memory, for tests in another
    expect(e.stats()).not.toHaveProperty('rssBytes');
  });
});
