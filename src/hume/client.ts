/**
 * Client for Hume's Expression Measurement batch API (v0): one method per endpoint, responses
 * parsed with the permissive schemas in `schemas.ts`, every failure a classified HumeError.
 *
 * It never retries (Temporal activities do, honouring `HumeError.retryable`/`retryAfterMs`). A
 * small JSON call has a timeout covering the whole exchange, body included; uploads and downloads
 * have an idle timeout and a deadline scaled by their size instead (`http.ts`). Every request
 * first takes a slot from a limiter that all clients of the same server in this process share
 * (`rate-limit.ts`), and a 429 holds them all back until its Retry-After; large transfers also
 * take one of a few shared transfer slots (`transfer-slots.ts`).
 */
import type { Dispatcher } from 'undici';
import { HumeInvalidRequestError } from './errors.js';
import { downloadToFile, type DownloadOptions, type DownloadResult } from './download.js';
import { HumeHttp, readJson, readJsonSkipping, type CallOptions, type HttpRequest, type RequestObserver } from './http.js';
import { iterateJobPages, listJobsQuery, type IterateJobsParams, type ListJobsParams } from './listJobs.js';
import { buildMultipartBody, type LocalFileInput } from './multipart.js';
import { DEFAULT_RATE_LIMIT, sharedRateLimiter } from './rate-limit.js';
import { jsonRequestBody } from './request-body.js';
import { InferenceJob, JobId, JobList, Predictions, type InferenceBaseRequest } from './schemas.js';
import { DEFAULT_MAX_CONCURRENT_TRANSFERS, sharedTransferSlots } from './transfer-slots.js';
import { validateRequest } from './validateRequest.js';

export type { CallOptions } from './http.js';
export type { DownloadOptions, DownloadResult } from './download.js';
export type { IterateJobsParams, ListJobsParams } from './listJobs.js';
export type { LocalFileInput } from './multipart.js';

export interface HumeClientOptions {
  apiKey: string;
  /** @default 'https://api.hume.ai' */
  baseUrl?: string;
  /**
   * A small JSON call's (getJob, listJobs, a small startJob) total deadline, connect to the last
   * byte of the answer, in ms. Uploads and downloads have no total deadline: this bounds the wait
   * for the answer's headers of a download and is the base of their size-scaled deadline.
   * @default 60_000
   */
  timeoutMs?: number;
  /**
   * An upload or download fails (HumeTimeoutError, retryable) when no byte has moved for this
   * long, in ms: sending the body, waiting for the answer, or between chunks of the answer.
   * @default 60_000
   */
  idleTimeoutMs?: number;
  /**
   * The slowest average rate an upload or download of known size may run at, bytes/s: it fails
   * after `timeoutMs + bytes / minBytesPerSecond` (the upload's size; the download's
   * Content-Length, counted from its headers). A download of unknown length has only the idle
   * timeout. @default 65_536 (64 KiB/s: 100 MB in ~27 min)
   */
  minBytesPerSecond?: number;
  /**
   * Uploads with files and predictions/artifacts downloads this process runs at once against
   * `baseUrl`'s server, shared by every HumeClient on that server (the lowest asked for applies);
   * the rest wait, a wait that counts against no deadline and ends with the call's signal.
   * @default 4 (`DEFAULT_MAX_CONCURRENT_TRANSFERS`)
   */
  maxConcurrentTransfers?: number;
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
  /** Told of every request once it ended: call, status, duration, bytes (see `humeRequestMetrics`). */
  observer?: RequestObserver;
}

const DEFAULT_BASE_URL = 'https://api.hume.ai';
const DEFAULT_TIMEOUT_MS = 60_000; // the official SDK's default
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
const DEFAULT_MIN_BYTES_PER_SECOND = 64 * 1024;
/** A startJob body past this size (texts) is sent as a transfer, without a total deadline. */
const LARGE_JSON_BODY_BYTES = 1024 * 1024;
/** Hume echoes every submitted text in job details; we never read them back. */
const JOB_TEXTS = /^request\.text\.\d+$/;
const LISTED_JOB_TEXTS = /^\d+\.request\.text\.\d+$/;
const JOBS_PATH = '/v0/batch/jobs';

export class HumeClient {
  readonly #http: HumeHttp;

  constructor(options: HumeClientOptions) {
    const { apiKey, baseUrl = DEFAULT_BASE_URL, timeoutMs = DEFAULT_TIMEOUT_MS, dispatcher } = options;
    const { idleTimeoutMs = DEFAULT_IDLE_TIMEOUT_MS, minBytesPerSecond = DEFAULT_MIN_BYTES_PER_SECOND } = options;
    const { maxConcurrentTransfers = DEFAULT_MAX_CONCURRENT_TRANSFERS } = options;
    const { maxRequestsPerSecond: rate = DEFAULT_RATE_LIMIT.requestsPerSecond, maxRequestBurst: burst = Math.ceil(rate) } = options;
    const invalid = (reason: string) => new HumeInvalidRequestError({ call: 'new HumeClient', reason });
    if (typeof apiKey !== 'string' || apiKey.trim() === '') throw invalid('options.apiKey must be a non-empty string');
    if (!URL.canParse(baseUrl) || !/^https?:$/.test(new URL(baseUrl).protocol)) {
      throw invalid(`options.baseUrl must be an http(s) URL, got ${JSON.stringify(baseUrl)}`);
    }
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
      throw invalid(`options.timeoutMs must be a positive integer (ms), got ${timeoutMs}`);
    }
    if (!Number.isSafeInteger(idleTimeoutMs) || idleTimeoutMs <= 0) {
      throw invalid(`options.idleTimeoutMs must be a positive integer (ms), got ${idleTimeoutMs}`);
    }
    if (typeof minBytesPerSecond !== 'number' || !(minBytesPerSecond > 0) || !Number.isFinite(minBytesPerSecond)) {
      throw invalid(`options.minBytesPerSecond must be a positive number, got ${minBytesPerSecond}`);
    }
    if (!Number.isSafeInteger(maxConcurrentTransfers) || maxConcurrentTransfers < 1) {
      throw invalid(`options.maxConcurrentTransfers must be a positive integer, got ${maxConcurrentTransfers}`);
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
    this.#http = new HumeHttp({
      apiKey,
      baseUrl: baseUrl.replace(/\/+$/, ''),
      timeoutMs,
      idleTimeoutMs,
      minBytesPerSecond,
      dispatcher,
      limiter,
      transfers: sharedTransferSlots(baseUrl, maxConcurrentTransfers),
      observer: options.observer,
    });
  }

  /** One page of jobs (`GET /v0/batch/jobs`). Echoed texts come back empty (`request.text: ['', …]`). */
  async listJobs(params: ListJobsParams = {}, options?: CallOptions): Promise<InferenceJob[]> {
    const call = 'listJobs';
    const query = listJobsQuery(call, params);
    return this.#http.exchange(call, options, { method: 'GET', path: JOBS_PATH, query }, (body) =>
      readJsonSkipping(call, body, JobList, { skip: LISTED_JOB_TEXTS, replacement: '' }),
    );
  }

  /** Every matching job, paging by creation time; see `iterateJobPages`. */
  iterateJobs(params: IterateJobsParams = {}, options?: CallOptions): AsyncGenerator<InferenceJob> {
    return iterateJobPages('iterateJobs', (page) => this.listJobs(page, options), params);
  }

  /** Starts a job on URLs and/or texts; resolves to its job id. Big texts are sent as an upload. */
  async startJob(request: InferenceBaseRequest, options?: CallOptions): Promise<string> {
    const call = 'startJob';
    const body = jsonRequestBody(validateRequest(call, request, 'sources'));
    // Big texts are a transfer like an upload of files: they wait for a slot, so a worker never sends many at once.
    return this.#startJob(call, options, { body, ...(body.length > LARGE_JSON_BODY_BYTES && { transfer: { slot: true } }) });
  }

  /** Starts a job on local files, streamed from disk, plus whatever `request` adds. */
  async startJobWithFiles(files: LocalFileInput[], request?: InferenceBaseRequest, options?: CallOptions): Promise<string> {
    const call = 'startJobWithFiles';
    const json = request === undefined ? undefined : JSON.stringify(validateRequest(call, request, 'files'));
    return this.#startJob(call, options, { body: await buildMultipartBody(call, files, json), transfer: { slot: true } });
  }

  async #startJob(call: string, options: CallOptions | undefined, req: Pick<HttpRequest, 'body' | 'transfer'>) {
    const { job_id } = await this.#http.exchange(call, options, { method: 'POST', path: JOBS_PATH, ...req }, (body) =>
      readJson(call, body, JobId),
    );
    return job_id;
  }

  /** One job's details. Echoed texts come back empty (`request.text: ['', …]`), never held. */
  async getJob(jobId: string, options?: CallOptions): Promise<InferenceJob> {
    const call = `getJob(${jobId})`;
    return this.#http.exchange(call, options, { method: 'GET', path: jobPath(call, jobId) }, (body) =>
      readJsonSkipping(call, body, InferenceJob, { skip: JOB_TEXTS, replacement: '' }),
    );
  }

  /** Parsed predictions, held in memory; use `downloadPredictions` for large jobs. */
  async getPredictions(jobId: string, options?: CallOptions): Promise<Predictions> {
    const call = `getPredictions(${jobId})`;
    return this.#http.exchange(call, options, { method: 'GET', path: jobPath(call, jobId, '/predictions') }, (body) =>
      readJson(call, body, Predictions),
    );
  }

  /**
   * The predictions' raw JSON bytes, streamed to `destPath` via `<destPath>.partial`; resumable
   * with `options.resumeFromBytes` (see `download.ts`).
   */
  async downloadPredictions(jobId: string, destPath: string, options?: DownloadOptions): Promise<DownloadResult> {
    return this.#download(`downloadPredictions(${jobId})`, jobId, '/predictions', 'application/json', destPath, options);
  }

  /** The artifacts zip, streamed to `destPath` like `downloadPredictions`. */
  async downloadArtifacts(jobId: string, destPath: string, options?: DownloadOptions): Promise<DownloadResult> {
    return this.#download(`downloadArtifacts(${jobId})`, jobId, '/artifacts', '*/*', destPath, options);
  }

  async #download(call: string, jobId: string, suffix: string, accept: string, destPath: string, options?: DownloadOptions) {
    const req: HttpRequest = { method: 'GET', path: jobPath(call, jobId, suffix), headers: { accept }, transfer: { slot: true } };
    return downloadToFile(this.#http, call, req, destPath, options);
  }
}

function jobPath(call: string, jobId: string, suffix = ''): string {
  if (typeof jobId !== 'string' || jobId === '') throw new HumeInvalidRequestError({ call, reason: 'jobId must be a non-empty string' });
  return `${JOBS_PATH}/${encodeURIComponent(jobId)}${suffix}`;
}
