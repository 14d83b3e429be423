import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HumeClient } from '../../src/hume/client.js';
import { HumeError } from '../../src/hume/errors.js';
import { API_KEY, completedJob, sendJson, startServer, type TestServer } from './helpers.js';

const JOB_ID = '3f2a4b8c-1d2e-4f50-9a6b-7c8d9e0f1a2b';
const PREDICTIONS = [
  {
    source: { type: 'text' },
    results: {
      predictions: [
        {
          file: 'text',
          models: {
            language: {
              metadata: null,
              grouped_predictions: [
                {
                  id: 'unknown',
                  predictions: [{ text: 'hi', position: { begin: 0, end: 2 }, emotions: [{ name: 'Joy', score: 0.5 }] }],
                },
              ],
            },
          },
        },
      ],
      errors: [],
    },
  },
];

let server: TestServer;
let client: HumeClient;

beforeAll(async () => {
  server = await startServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (req.method === 'GET' && path === '/v0/batch/jobs') return sendJson(res, 200, [completedJob(JOB_ID)]);
    if (req.method === 'POST' && path === '/v0/batch/jobs') return sendJson(res, 200, { job_id: JOB_ID });
    if (path === `/v0/batch/jobs/${JOB_ID}`) return sendJson(res, 200, completedJob(JOB_ID));
    if (path === `/v0/batch/jobs/${JOB_ID}/predictions`) return sendJson(res, 200, PREDICTIONS);
    sendJson(res, 404, { message: 'job not found' });
  });
  client = new HumeClient({ apiKey: API_KEY, baseUrl: `${server.url}/` });
});
afterAll(() => server.close());

const lastRequest = () => server.requests.at(-1)!;

describe('HumeClient endpoints', () => {
  it('lists jobs with every query parameter, status repeated', async () => {
    const jobs = await client.listJobs({
      status: ['QUEUED', 'FAILED'],
      when: 'created_after',
      timestampMs: 1_700_000_000_000,
      sortBy: 'started',
      direction: 'asc',
      limit: 7,
    });
    expect(jobs.map((j) => j.job_id)).toEqual([JOB_ID]);
    const req = lastRequest();
    expect(req.method).toBe('GET');
    expect(req.url).toBe(
      '/v0/batch/jobs?status=QUEUED&status=FAILED&when=created_after&timestamp_ms=1700000000000&sort_by=started&direction=asc&limit=7',
    );
    expect(req.headers['x-hume-api-key']).toBe(API_KEY);
    expect(req.headers.accept).toBe('application/json');
  });

  it('lists jobs without a query when given no parameters', async () => {
    await client.listJobs();
    expect(lastRequest().url).toBe('/v0/batch/jobs');
  });

  it('starts a JSON job, keeping explicit nulls and dropping undefined', async () => {
    const request = {
      urls: ['https://example.test/a.wav'],
      text: ['hello'],
      models: { prosody: { granularity: 'sentence' as const }, burst: {} },
      transcription: null,
      callback_url: 'https://cb.example.test/hook?token=t',
      notify: true,
      registry_files: undefined,
    };
    await expect(client.startJob(request)).resolves.toBe(JOB_ID);
    const req = lastRequest();
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/v0/batch/jobs');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['x-hume-api-key']).toBe(API_KEY);
    expect(JSON.parse(req.body.toString())).toEqual({
      urls: ['https://example.test/a.wav'],
      text: ['hello'],
      models: { prosody: { granularity: 'sentence' }, burst: {} },
      transcription: null,
      callback_url: 'https://cb.example.test/hook?token=t',
      notify: true,
    });
  });

  it('gets job details and predictions', async () => {
    const job = await client.getJob(JOB_ID);
    expect(lastRequest()).toMatchObject({ method: 'GET', url: `/v0/batch/jobs/${JOB_ID}` });
    expect(job.state.status).toBe('COMPLETED');
    const predictions = await client.getPredictions(JOB_ID);
    expect(lastRequest()).toMatchObject({ method: 'GET', url: `/v0/batch/jobs/${JOB_ID}/predictions` });
    expect(predictions[0]?.results?.predictions[0]?.models.language?.grouped_predictions[0]?.predictions[0]?.text).toBe('hi');
  });

  it('encodes the job id into the path', async () => {
    await expect(client.getJob('../x?y')).rejects.toMatchObject({ code: 'HUME_NOT_FOUND' });
    expect(lastRequest().url).toBe('/v0/batch/jobs/..%2Fx%3Fy');
  });
});

describe('request validation (before anything is sent)', () => {
  const invalid = async (promise: Promise<unknown>, pattern: RegExp) => {
    const before = server.requests.length;
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HumeError);
    expect(error).toMatchObject({ code: 'HUME_INVALID_REQUEST', retryable: false });
    expect((error as Error).message).toMatch(pattern);
    expect(server.requests.length).toBe(before);
  };

  it('refuses bad model config, naming the field', () =>
    invalid(
      client.startJob({ urls: ['https://a.test/x'], models: { face: { prob_threshold: 2 } } }),
      /^Hume startJob: request\.models\.face\.prob_threshold: /,
    ));
  it('refuses a job without sources', () => invalid(client.startJob({ models: {} }), /at least one of urls or text/));
  it('refuses more than 100 urls', () =>
    invalid(client.startJob({ urls: Array.from({ length: 101 }, (_, i) => `https://a.test/${i}`) }), /101 urls exceed/));
  it('refuses more than 100 texts', () => invalid(client.startJob({ text: Array(101).fill('x') }), /101 texts exceed/));
  it('refuses a bad list limit', () => invalid(client.listJobs({ limit: 0 }), /^Hume listJobs: limit must be/));
  it('refuses an empty job id', () => invalid(client.getJob(''), /^Hume getJob\(\): jobId/));
  it('refuses an empty file list', () => invalid(client.startJobWithFiles([]), /at least one local file/));
});

describe('HumeClient options', () => {
  it.each([
    [{ apiKey: '' }, /options\.apiKey/],
    [{ apiKey: 'k', baseUrl: 'ftp://x' }, /options\.baseUrl/],
    [{ apiKey: 'k', baseUrl: 'not a url' }, /options\.baseUrl/],
    [{ apiKey: 'k', timeoutMs: 0 }, /options\.timeoutMs/],
    [{ apiKey: 'k', timeoutMs: 1.5 }, /options\.timeoutMs/],
    [{ apiKey: 'k', dispatcher: {} as never }, /options\.dispatcher/],
    [{ apiKey: 'k', maxRequestsPerSecond: 0 }, /options\.maxRequestsPerSecond/],
    [{ apiKey: 'k', maxRequestsPerSecond: Number.NaN }, /options\.maxRequestsPerSecond/],
    [{ apiKey: 'k', maxRequestBurst: 0 }, /options\.maxRequestBurst/],
    [{ apiKey: 'k', maxRequestsPerSecond: 5, maxRequestBurst: 2.5 }, /options\.maxRequestBurst/],
    [{ apiKey: 'k', idleTimeoutMs: 0 }, /options\.idleTimeoutMs/],
    [{ apiKey: 'k', minBytesPerSecond: -1 }, /options\.minBytesPerSecond/],
    [{ apiKey: 'k', minBytesPerSecond: Infinity }, /options\.minBytesPerSecond/],
    [{ apiKey: 'k', maxConcurrentTransfers: 0 }, /options\.maxConcurrentTransfers/],
    [{ apiKey: 'k', maxConcurrentTransfers: 1.5 }, /options\.maxConcurrentTransfers/],
  ])('refuses %j', (options, pattern) => {
    expect(() => new HumeClient(options)).toThrow(pattern);
  });
});
