/**
 * Client for Hume's Expression Measurement batch API (v0): one method per endpoint, responses
 * parsed with the permissive schemas in `schemas.ts`, every failure a classified HumeError.
 *
 * It never retries (Temporal activities do, honouring `HumeError.retryable`/`retryAfterMs`), and
 * every call has a timeout covering the whole exchange, body included. Every request first takes
 * a slot from a limiter that all clients of the same server in this process share
 * (`rate-limit.ts`), and a 429 holds them all back until its Retry-After.
 */
import type { Dispatcher } from 'undici';
import { HumeInvalidRequestError } from './errors.js';
import { streamToFile, type DownloadResult } from './download.js';
import { HumeHttp, readJson, type CallOptions, type HttpRequest } from './http.js';
import { iterateJobPages, listJobsQuery, type IterateJobsParams, type ListJobsParams } from './listJobs.js';
import { buildMultipartBody, type LocalFileInput } from './multipart.js';
import { DEFAULT_RATE_LIMIT, sharedRateLimiter } from './rate-limit.js';
import { InferenceJob, JobId, JobList, Predictions, type InferenceBaseRequest } from './schemas.js';
import { validateRequest } from './validateRequest.js';

export type { CallOptions } from './http.js';
export type { DownloadResult } from './download.js';
export type { IterateJobsParams, ListJobsParams } from './listJobs.js';
export type { LocalFileInput } from './multipart.js';

export interface HumeClientOptions {
  apiKey: string;
  /** @default 'https://api.hume.ai' */
  baseUrl?: string;
  /** Per call, covering connect, upload and the whole response body, in ms. @default 60_000 */
  timeoutMs?: number;
  /** undici dispatcher (pool, proxy, mock). @default undici's global dispatcher */
  dispatcher?: Dispatcher;
  /**
   * Requests per second this process sends to `baseUrl`'s server, shared by every HumeClient on
   * that server (the lowest asked for applies to all); a 429 pauses them all for its Retry-After.
   * Waiting for a slot does not count against `timeoutMs`. `Infinity`: this client does not wait
   * (and does not pause on 429). @default 10 (see `DEFAULT_RATE_LIMIT`)
   */
  maxRequestsPerSecond?: number;
  /** Requests that may go at once after a quiet spell. @default `maxRequestsPerSecond` rounded up */
  maxRequestBurst?: number;
}

const DEFAULT_BASE_URL = 'https://api.hume.ai';
const DEFAULT_TIMEOUT_MS = 60_000; // the official SDK's default
const JOBS_PATH = '/v0/batch/jobs';

export class HumeClient {
  readonly #http: HumeHttp;

  constructor(options: HumeClientOptions) {
    const { apiKey, baseUrl = DEFAULT_BASE_URL, timeoutMs = DEFAULT_TIMEOUT_MS, dispatcher } = options;
    const { maxRequestsPerSecond: rate = DEFAULT_RATE_LIMIT.requestsPerSecond, maxRequestBurst: burst = Math.ceil(rate) } = options;
    const invalid = (reason: string) => new HumeInvalidRequestError({ call: 'new HumeClient', reason });
    if (typeof apiKey !== 'string' || apiKey.trim() === '') throw invalid('options.apiKey must be a non-empty string');
    if (!URL.canParse(baseUrl) || !/^https?:$/.test(new URL(baseUrl).protocol)) {
      throw invalid(`options.baseUrl must be an http(s) URL, got ${JSON.stringify(baseUrl)}`);
    }
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
      throw invalid(`options.timeoutMs must be a positive integer (ms), got ${timeoutMs}`);
    }
    if (dispatcher !== undefined && typeof dispatcher?.dispatch !== 'function') {
      throw invalid('options.dispatcher must be an undici Dispatcher');
    }
    if (typeof rate !== 'number' || !(rate > 0)) {
      throw invalid(`options.maxRequestsPerSecond must be a positive number, got ${rate}`);
    }
    if (rate !== Infinity && (!Number.isSafeInteger(burst) || burst < 1)) {
      throw invalid(`options.maxRequestBurst must be a positive integer, got ${burst}`);
    }
    const limiter = rate === Infinity ? undefined : sharedRateLimiter(baseUrl, { requestsPerSecond: rate, burst });
    this.#http = new HumeHttp({ apiKey, baseUrl: baseUrl.replace(/\/+$/, ''), timeoutMs, dispatcher, limiter });
  }

  /** One page of jobs (`GET /v0/batch/jobs`). */
  async listJobs(params: ListJobsParams = {}, options?: CallOptions): Promise<InferenceJob[]> {
    const call = 'listJobs';
    const query = listJobsQuery(call, params);
    return this.#http.exchange(call, options, { method: 'GET', path: JOBS_PATH, query }, (body) =>
      readJson(call, body, JobList),
    );
  }

  /** Every matching job, paging by creation time; see `iterateJobPages`. */
  iterateJobs(params: IterateJobsParams = {}, options?: CallOptions): AsyncGenerator<InferenceJob> {
    return iterateJobPages('iterateJobs', (page) => this.listJobs(page, options), params);
  }

  /** Starts a job on URLs and/or texts; resolves to its job id. */
  async startJob(request: InferenceBaseRequest, options?: CallOptions): Promise<string> {
    const call = 'startJob';
    const body = JSON.stringify(validateRequest(call, request, 'sources'));
    return this.#startJob(call, options, { headers: { 'content-type': 'application/json' }, body });
  }

  /** Starts a job on local files, streamed from disk, plus whatever `request` adds. */
  async startJobWithFiles(files: LocalFileInput[], request?: InferenceBaseRequest, options?: CallOptions): Promise<string> {
    const call = 'startJobWithFiles';
    const json = request === undefined ? undefined : JSON.stringify(validateRequest(call, request, 'files'));
    return this.#startJob(call, options, { body: await buildMultipartBody(call, files, json) });
  }

  async #startJob(call: string, options: CallOptions | undefined, req: Pick<HttpRequest, 'headers' | 'body'>) {
    const { job_id } = await this.#http.exchange(call, options, { method: 'POST', path: JOBS_PATH, ...req }, (body) =>
      readJson(call, body, JobId),
    );
    return job_id;
  }

  async getJob(jobId: string, options?: CallOptions): Promise<InferenceJob> {
    const call = `getJob(${jobId})`;
    return this.#http.exchange(call, options, { method: 'GET', path: jobPath(call, jobId) }, (body) =>
      readJson(call, body, InferenceJob),
    );
  }

  /** Parsed predictions, held in memory; use `downloadPredictions` for large jobs. */
  async getPredictions(jobId: string, options?: CallOptions): Promise<Predictions> {
    const call = `getPredictions(${jobId})`;
    return this.#http.exchange(call, options, { method: 'GET', path: jobPath(call, jobId, '/predictions') }, (body) =>
      readJson(call, body, Predictions),
    );
  }

  /** The predictions' raw JSON bytes, streamed to `destPath`. */
  async downloadPredictions(jobId: string, destPath: string, options?: CallOptions): Promise<DownloadResult> {
    return this.#download(`downloadPredictions(${jobId})`, jobId, '/predictions', 'application/json', destPath, options);
  }

  /** The artifacts zip, streamed to `destPath`. */
  async downloadArtifacts(jobId: string, destPath: string, options?: CallOptions): Promise<DownloadResult> {
    return this.#download(`downloadArtifacts(${jobId})`, jobId, '/artifacts', '*/*', destPath, options);
  }

  async #download(call: string, jobId: string, suffix: string, accept: string, destPath: string, options?: CallOptions) {
    const req = { method: 'GET', path: jobPath(call, jobId, suffix), headers: { accept } } as const;
    return this.#http.exchange(call, options, req, (body) => streamToFile(body, destPath));
  }
}

function jobPath(call: string, jobId: string, suffix = ''): string {
  if (typeof jobId !== 'string' || jobId === '') throw new HumeInvalidRequestError({ call, reason: 'jobId must be a non-empty string' });
  return `${JOBS_PATH}/${encodeURIComponent(jobId)}${suffix}`;
}
