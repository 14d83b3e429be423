import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HumeClient } from '../../src/hume/client.js';
import { API_KEY, completedJob, sendJson, startServer, type TestServer } from './helpers.js';

interface FakeJob {
  id: string;
  created: number;
}

/** Jobs the fake server lists, and whether its `created_before/after` comparison is strict. */
let jobs: FakeJob[] = [];
let strict = true;

let server: TestServer;
let client: HumeClient;

/** `GET /v0/batch/jobs` over `jobs`, as documented: filter by `when`, sort by created, then `limit`. */
beforeAll(async () => {
  server = await startServer((req, res) => {
    const q = new URL(req.url, 'http://x').searchParams;
    const ts = q.has('timestamp_ms') ? Number(q.get('timestamp_ms')) : Number.MAX_SAFE_INTEGER;
    const when = q.get('when') ?? 'created_before';
    const sign = q.get('direction') === 'asc' ? 1 : -1;
    const selected = jobs
      .filter((j) => (when === 'created_before' ? j.created < ts || (!strict && j.created === ts) : j.created > ts || (!strict && j.created === ts)))
      .sort((a, b) => sign * (a.created - b.created) || a.id.localeCompare(b.id))
      .slice(0, Number(q.get('limit') ?? 50));
    sendJson(res, 200, selected.map((j) => completedJob(j.id, j.created)));
  });
  client = new HumeClient({ apiKey: API_KEY, baseUrl: server.url });
});
afterAll(() => server.close());

/** `count` jobs, three per millisecond, so page edges fall inside groups of equal timestamps. */
const makeJobs = (count: number, perMs = 3): FakeJob[] =>
  Array.from({ length: count }, (_, i) => ({ id: `job-${String(i).padStart(4, '0')}`, created: 1_000 + Math.floor(i / perMs) * 7 }));

const expectedOrder = (direction: 'asc' | 'desc') =>
  [...jobs].sort((a, b) => (direction === 'asc' ? 1 : -1) * (a.created - b.created) || a.id.localeCompare(b.id)).map((j) => j.id);

const collect = async (iterable: AsyncIterable<{ job_id: string }>) => {
  const ids: string[] = [];
  for await (const job of iterable) ids.push(job.job_id);
  return ids;
};

describe.each([true, false])('iterateJobs (server compares strictly: %s)', (isStrict) => {
  beforeAll(() => {
    strict = isStrict;
  });

  it('returns 120 jobs once each, newest first, across pages of 50 with equal timestamps at the edges', async () => {
    jobs = makeJobs(120);
    server.requests.length = 0;
    const ids = await collect(client.iterateJobs({ pageSize: 50 }));
    expect(ids).toEqual(expectedOrder('desc'));
    const first = new URL(server.requests[0]!.url, 'http://x').searchParams;
    expect(Object.fromEntries(first)).toEqual({ sort_by: 'created', limit: '50' });
    const second = new URL(server.requests[1]!.url, 'http://x').searchParams;
    expect(second.get('when')).toBe('created_before');
    expect(server.requests.length).toBeLessThanOrEqual(5);
  });

  it('pages ascending with created_after', async () => {
    jobs = makeJobs(120);
    server.requests.length = 0;
    const ids = await collect(client.iterateJobs({ pageSize: 50, direction: 'asc', status: ['COMPLETED', 'FAILED'] }));
    expect(ids).toEqual(expectedOrder('asc'));
    const later = new URL(server.requests[1]!.url, 'http://x').searchParams;
    expect(later.get('when')).toBe('created_after');
    expect(later.getAll('status')).toEqual(['COMPLETED', 'FAILED']);
  });

  it('gets through more jobs in one millisecond than a page holds', async () => {
    jobs = makeJobs(30, 12);
    expect(await collect(client.iterateJobs({ pageSize: 5 }))).toEqual(expectedOrder('desc'));
  });

  it('stops at maxJobs', async () => {
    jobs = makeJobs(120);
    expect(await collect(client.iterateJobs({ pageSize: 50, maxJobs: 60 }))).toEqual(expectedOrder('desc').slice(0, 60));
  });
});

describe('iterateJobs arguments', () => {
  it.each([
    [{ sortBy: 'started' as const }, /sortBy started is not supported/],
    [{ direction: 'desc' as const, when: 'created_after' as const }, /direction desc pages with when=created_before/],
    [{ pageSize: 0 }, /pageSize must be a positive integer/],
    [{ maxJobs: -1 }, /maxJobs must be a positive integer/],
  ])('refuses %j', async (params, pattern) => {
    await expect(collect(client.iterateJobs(params))).rejects.toThrow(pattern);
  });

  it('starts from the given timestamp', async () => {
    strict = true;
    jobs = makeJobs(30);
    const start = jobs[15]!.created;
    const ids = await collect(client.iterateJobs({ timestampMs: start, when: 'created_before' }));
    expect(ids).toEqual(expectedOrder('desc').filter((id) => jobs.find((j) => j.id === id)!.created < start));
  });
});
