import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HumeClient } from '../../src/hume/client.js';
import { HumeError, isRetryableHumeError, type HumeErrorCode } from '../../src/hume/errors.js';
import { API_KEY, sendJson, startServer, type TestServer } from './helpers.js';

const JOB = '0b6e1d9a-8a43-4c59-9d7c-2f3a1e5b6c7d';

/** Replies to every request with whatever the current test put here. */
let reply: (res: import('node:http').ServerResponse, req: import('node:http').IncomingMessage) => void;
let server: TestServer;
let client: HumeClient;

beforeAll(async () => {
  server = await startServer((_req, res, raw) => reply(res, raw));
  // No limiter: these 429s carry Retry-After of up to a minute, which would pause the next tests
  // (test/hume/rate-limit.test.ts covers that pause).
  client = new HumeClient({ apiKey: API_KEY, baseUrl: server.url, timeoutMs: 500, maxRequestsPerSecond: Infinity });
});
afterAll(() => server.close());

const failure = async (promise: Promise<unknown>): Promise<HumeError> => {
  const error = await promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HumeError);
  const humeError = error as HumeError;
  expect(humeError.message).not.toContain(API_KEY);
  return humeError;
};

describe('HTTP status classification', () => {
  it.each<[number, HumeErrorCode, boolean]>([
    [400, 'HUME_BAD_REQUEST', false],
    [401, 'HUME_UNAUTHORIZED', false],
    [403, 'HUME_FORBIDDEN', false],
    [404, 'HUME_NOT_FOUND', false],
    [409, 'HUME_HTTP_ERROR', false],
    [413, 'HUME_HTTP_ERROR', false],
    [422, 'HUME_UNPROCESSABLE', false],
    [408, 'HUME_TIMEOUT', true],
    [429, 'HUME_RATE_LIMITED', true],
    [500, 'HUME_SERVER_ERROR', true],
    [502, 'HUME_SERVER_ERROR', true],
    [503, 'HUME_SERVER_ERROR', true],
    [504, 'HUME_SERVER_ERROR', true],
  ])('%i → %s (retryable: %s)', async (status, code, retryable) => {
    reply = (res) => sendJson(res, status, { message: `boom ${status}` });
    const e = await failure(client.getJob(JOB));
    expect(e).toMatchObject({ code, retryable, status, call: `getJob(${JOB})` });
    expect(e.message).toMatch(new RegExp(`^Hume getJob\\(${JOB}\\): ${status} [A-Za-z].*: boom ${status}$`));
    expect(isRetryableHumeError(e)).toBe(retryable);
  });

  it('reads the Apigee fault shape and names the call', async () => {
    reply = (res) =>
      sendJson(res, 401, { fault: { faultstring: 'Invalid ApiKey', detail: { errorcode: 'oauth.v2.InvalidApiKey' } } });
    const e = await failure(client.getJob(JOB));
    expect(e.message).toBe(`Hume getJob(${JOB}): 401 Unauthorized: Invalid ApiKey`);
  });

  it('quotes the first 200 characters of a non-JSON body, whitespace collapsed', async () => {
    reply = (res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end(`<html>\n  <body>Cloudflare Ray ID: abc ${'x'.repeat(500)}</body></html>`);
    };
    const e = await failure(client.listJobs());
    expect(e.message).toMatch(/^Hume listJobs: 502 Bad Gateway: <html> <body>Cloudflare Ray ID: abc x+$/);
    expect(e.message.length).toBeLessThan('Hume listJobs: 502 Bad Gateway: '.length + 201);
  });

  it('gives the status line alone for an empty body', async () => {
    reply = (res) => res.writeHead(503).end();
    expect((await failure(client.listJobs())).message).toBe('Hume listJobs: 503 Service Unavailable');
  });

  it('never repeats the API key, even when the server echoes it', async () => {
    reply = (res, req) => sendJson(res, 401, { message: `bad key ${String(req.headers['x-hume-api-key'])}` });
    const e = await failure(client.getJob(JOB));
    expect(e.message).toBe(`Hume getJob(${JOB}): 401 Unauthorized: bad key [redacted]`);
  });

  it('never includes the request body (texts may be private)', async () => {
    reply = (res) => sendJson(res, 500, {});
    const e = await failure(client.startJob({ text: ['my private diary entry'] }));
    expect(e.message).toBe('Hume startJob: 500 Internal Server Error: {}');
  });
});

describe('Retry-After', () => {
  it('reads delta-seconds', async () => {
    reply = (res) => sendJson(res, 429, { message: 'slow down' }, { 'retry-after': '7' });
    expect(await failure(client.listJobs())).toMatchObject({ code: 'HUME_RATE_LIMITED', retryAfterMs: 7000 });
  });

  it('reads an HTTP date', async () => {
    const at = new Date(Date.now() + 30_000);
    reply = (res) => sendJson(res, 503, {}, { 'retry-after': at.toUTCString() });
    const { retryAfterMs } = await failure(client.listJobs());
    // toUTCString drops milliseconds, and a little time passes on the way.
    expect(retryAfterMs).toBeGreaterThan(27_000);
    expect(retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it('falls back to X-RateLimit-Reset (epoch seconds)', async () => {
    const reset = Math.floor(Date.now() / 1000) + 60;
    reply = (res) => sendJson(res, 429, {}, { 'x-ratelimit-reset': String(reset) });
    const { retryAfterMs } = await failure(client.listJobs());
    expect(retryAfterMs).toBeGreaterThan(55_000);
    expect(retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('is left out when unusable or on a non-retryable error', async () => {
    reply = (res) => sendJson(res, 429, {}, { 'retry-after': 'soon' });
    expect((await failure(client.listJobs())).retryAfterMs).toBeUndefined();
    reply = (res) => sendJson(res, 400, {}, { 'retry-after': '5' });
    expect((await failure(client.listJobs())).retryAfterMs).toBeUndefined();
  });
});

describe('network failures and timeouts', () => {
  it('a connection reset is a retryable network error', async () => {
    reply = (res) => res.socket?.destroy();
    const e = await failure(client.startJob({ urls: ['https://a.test/x'] }));
    expect(e).toMatchObject({ code: 'HUME_NETWORK', retryable: true, call: 'startJob' });
    expect(e.message).toMatch(/^Hume startJob: network error: \S/);
  });

  it('a refused connection is a retryable network error', async () => {
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as AddressInfo;
    probe.close();
    await once(probe, 'close');
    const refused = new HumeClient({ apiKey: API_KEY, baseUrl: `http://127.0.0.1:${port}` });
    const e = await failure(refused.getJob(JOB));
    expect(e).toMatchObject({ code: 'HUME_NETWORK', retryable: true });
    expect(e.message).toMatch(new RegExp(`^Hume getJob\\(${JOB}\\): network error: .*ECONNREFUSED`));
  });

  it('no response within timeoutMs is a retryable timeout', async () => {
    reply = () => undefined; // never answers
    const e = await failure(client.getJob(JOB));
    expect(e).toMatchObject({ code: 'HUME_TIMEOUT', retryable: true });
    expect(e.message).toBe(`Hume getJob(${JOB}): timed out after 500 ms`);
  });

  it('the timeout covers a body that stalls halfway', async () => {
    reply = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[');
    };
    const e = await failure(client.getPredictions(JOB, { timeoutMs: 300 }));
    expect(e.message).toBe(`Hume getPredictions(${JOB}): timed out after 300 ms`);
  });

  it("the caller's abort signal is passed through unchanged, not classified", async () => {
    reply = () => undefined;
    const controller = new AbortController();
    const reason = new Error('activity cancelled');
    setTimeout(() => controller.abort(reason), 50);
    await expect(client.getJob(JOB, { signal: controller.signal })).rejects.toBe(reason);
  });
});

describe('invalid responses', () => {
  it('a body that does not match the schema names the first issue path', async () => {
    reply = (res) => sendJson(res, 200, { job_id: JOB, request: {}, state: { status: 'QUEUED' } });
    const e = await failure(client.getJob(JOB));
    expect(e).toMatchObject({ code: 'HUME_INVALID_RESPONSE', retryable: false });
    expect(e.message).toMatch(new RegExp(`^Hume getJob\\(${JOB}\\): invalid response: state`));
  });

  it('a body that is not JSON is not quoted', async () => {
    reply = (res) => res.writeHead(200).end('secret text from a user');
    const e = await failure(client.startJob({ text: ['x'] }));
    expect(e.message).toBe('Hume startJob: invalid response: body is not JSON (23 chars)');
  });
});

describe('isRetryableHumeError', () => {
  it('is true for raw network errors, also when wrapped as a cause', () => {
    expect(isRetryableHumeError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(true);
    const socket = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    expect(isRetryableHumeError(new TypeError('fetch failed', { cause: socket }))).toBe(true);
  });

  it('is false for anything else', () => {
    expect(isRetryableHumeError(new Error('bug'))).toBe(false);
    expect(isRetryableHumeError(Object.assign(new Error('no such file'), { code: 'ENOENT' }))).toBe(false);
    expect(isRetryableHumeError('string')).toBe(false);
    expect(isRetryableHumeError(undefined)).toBe(false);
  });
});
