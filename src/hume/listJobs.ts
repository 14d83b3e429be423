/**
 * Listing jobs: the query string of `GET /v0/batch/jobs`, and paging over it. Hume has no page
 * tokens; the only cursor is a creation timestamp (`when` + `timestamp_ms`).
 */
import { HumeInvalidRequestError } from './errors.js';
import type { InferenceJob, JobStatus } from './schemas.js';

export interface ListJobsParams {
  /** Only jobs in these states; sent as repeated `status=` keys. */
  status?: JobStatus | JobStatus[];
  /** Compare `created_timestamp_ms` against `timestampMs` this way. */
  when?: 'created_before' | 'created_after';
  /** Epoch ms. @default now (server side) */
  timestampMs?: number;
  sortBy?: 'created' | 'started' | 'ended';
  /** @default 'desc' (server side) */
  direction?: 'asc' | 'desc';
  /** @default 50 (server side) */
  limit?: number;
}

export interface IterateJobsParams extends ListJobsParams {
  /** Jobs asked for per request. @default 50 */
  pageSize?: number;
  /** Stop after this many jobs. @default unlimited */
  maxJobs?: number;
}

const DEFAULT_PAGE_SIZE = 50;

const isCount = (n: number) => Number.isSafeInteger(n) && n > 0;

export function listJobsQuery(call: string, params: ListJobsParams): URLSearchParams {
  const invalid = (reason: string) => new HumeInvalidRequestError({ call, reason });
  if (params.limit !== undefined && !isCount(params.limit)) throw invalid(`limit must be a positive integer, got ${params.limit}`);
  if (params.timestampMs !== undefined && !(Number.isSafeInteger(params.timestampMs) && params.timestampMs >= 0)) {
    throw invalid(`timestampMs must be epoch milliseconds, got ${params.timestampMs}`);
  }
  const query = new URLSearchParams();
  for (const status of [params.status ?? []].flat()) query.append('status', status);
  if (params.when !== undefined) query.set('when', params.when);
  if (params.timestampMs !== undefined) query.set('timestamp_ms', String(params.timestampMs));
  if (params.sortBy !== undefined) query.set('sort_by', params.sortBy);
  if (params.direction !== undefined) query.set('direction', params.direction);
  if (params.limit !== undefined) query.set('limit', String(params.limit));
  return query;
}

const createdMs = (job: InferenceJob) => job.state.created_timestamp_ms ?? undefined;

/**
 * Every job matching `params`, once each, in creation order, fetched page by page.
 *
 * The cursor is moved 1 ms *past* the page's edge timestamp (`created_before: oldest + 1` when
 * descending), so jobs sharing the edge millisecond are fetched again whether the server compares
 * strictly or not; ids already yielded near the edge are skipped. If a full page brings nothing
 * new (more jobs in one millisecond than a page holds), the page is widened until it does.
 */
export async function* iterateJobPages(
  call: string,
  fetchPage: (params: ListJobsParams) => Promise<InferenceJob[]>,
  params: IterateJobsParams,
): AsyncGenerator<InferenceJob> {
  const { pageSize = DEFAULT_PAGE_SIZE, maxJobs = Number.POSITIVE_INFINITY, ...filters } = params;
  const descending = (filters.direction ?? 'desc') === 'desc';
  const when = descending ? 'created_before' : 'created_after';
  const invalid = (reason: string) => new HumeInvalidRequestError({ call, reason });
  if (!isCount(pageSize)) throw invalid(`pageSize must be a positive integer, got ${pageSize}`);
  if (maxJobs !== Number.POSITIVE_INFINITY && !isCount(maxJobs)) throw invalid(`maxJobs must be a positive integer, got ${maxJobs}`);
  if ((filters.sortBy ?? 'created') !== 'created') throw invalid(`pages by creation time; sortBy ${filters.sortBy} is not supported`);
  if (filters.when !== undefined && filters.when !== when) {
    throw invalid(`direction ${descending ? 'desc' : 'asc'} pages with when=${when}, got when=${filters.when}`);
  }

  let cursor = filters.timestampMs;
  let limit = pageSize;
  let yielded = 0;
  /** Ids already yielded whose timestamp the next page may repeat, with that timestamp. */
  let nearEdge = new Map<string, number>();

  for (;;) {
    const page = await fetchPage({
      ...filters,
      sortBy: 'created',
      limit,
      ...(cursor !== undefined && { when, timestampMs: cursor }),
    });
    const fresh = page.filter((job) => !nearEdge.has(job.job_id));
    for (const job of fresh) {
      yield job;
      if (++yielded >= maxJobs) return;
    }

    const times = page.map(createdMs).filter((t): t is number => t !== undefined);
    if (times.length === 0) return;
    if (fresh.length === 0) {
      // Nothing new: either the end, or a full page of one millisecond that must be widened.
      if (page.length < limit) return;
      limit *= 2;
      continue;
    }
    limit = pageSize;
    const edge = descending ? Math.min(...times) : Math.max(...times);
    const isNearEdge = (t: number) => Math.abs(t - edge) <= 1;
    nearEdge = new Map([...nearEdge].filter(([, t]) => isNearEdge(t)));
    for (const job of page) {
      const t = createdMs(job);
      if (t !== undefined && isNearEdge(t)) nearEdge.set(job.job_id, t);
    }
    cursor = descending ? edge + 1 : edge - 1;
  }
}
