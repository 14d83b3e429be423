/**
 * Jobs and their state machine: QUEUED → IN_PROGRESS → COMPLETED | FAILED, with times drawn
 * from the configured ranges. While IN_PROGRESS a job's sources are resolved (loopback URLs
 * downloaded and hashed); after that only what rebuilds its predictions is kept.
 */
import { randomUUID } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { JobStatus } from '../hume/schemas.js';
import type { FaultInjector } from './faults.js';
import { download, isLoopback, mediaKind, urlFileName } from './media.js';
import type { ResolvedOptions } from './options.js';
import { predictSource, type ResolvedSource, type SourceResult } from './predictions.js';
import { sha256Hex, type Random } from './random.js';
import type { EchoedRequest } from './request.js';
import type { EmulatorStats } from './stats.js';
import type { Timers } from './timers.js';

/** `user_id` appears in real job objects (hume-batch-api.md §3); one fixed id for the emulator. */
export const EMULATOR_USER_ID = '00000000-0000-4000-8000-00000000e0e0';

export interface Job {
  readonly id: string;
  readonly request: EchoedRequest;
  status: JobStatus;
  readonly createdMs: number;
  startedMs?: number;
  endedMs?: number;
  numPredictions?: number;
  numErrors?: number;
  message?: string;
  /** What rebuilds the predictions: set when a job COMPLETES (inputs are not kept beyond this). */
  sources?: ResolvedSource[];
  /** Decided at creation by fault injection: the job will end FAILED with this message. */
  readonly failWith: string | undefined;
}

export interface ListQuery {
  statuses?: JobStatus[];
  when?: 'created_before' | 'created_after';
  timestampMs?: number;
  sortBy: 'created' | 'started' | 'ended';
  direction: 'asc' | 'desc';
  limit: number;
}

export interface JobStoreDeps {
  options: ResolvedOptions;
  timers: Timers;
  random: Random;
  faults: FaultInjector;
  dispatcher: Dispatcher;
  stats: EmulatorStats;
  /** Called once when a job reaches COMPLETED or FAILED. */
  onFinished: (job: Job) => void;
}

export class JobStore {
  readonly #jobs = new Map<string, Job>();
  readonly #deps: JobStoreDeps;
  #queued = 0;

  constructor(deps: JobStoreDeps) {
    this.#deps = deps;
  }

  get queuedCount(): number {
    return this.#queued;
  }

  get(id: string): Job | undefined {
    return this.#jobs.get(id);
  }

  create(request: EchoedRequest): Job {
    const { options, random, timers, faults, stats } = this.#deps;
    const job: Job = {
      id: randomUUID(),
      request,
      status: 'QUEUED',
      createdMs: Date.now(),
      failWith: faults.takeJobFailure(),
    };
    this.#jobs.set(job.id, job);
    this.#queued++;
    stats.jobsCreated++;
    const [qMin, qMax] = options.timing.queuedMs;
    const [pMin, pMax] = options.timing.processingMs;
    const queuedMs = random.between(qMin, qMax);
    const processingMs = random.between(pMin, pMax);
    timers.after(queuedMs, () => this.#start(job, processingMs));
    return job;
  }

  #start(job: Job, processingMs: number): void {
    this.#queued--;
    job.status = 'IN_PROGRESS';
    job.startedMs = Date.now();
    const { timers } = this.#deps;
    const work = job.failWith === undefined ? this.#resolveSources(job.request) : Promise.resolve(undefined);
    timers.track(
      Promise.all([work, timers.sleep(processingMs)]).then(([sources]) => this.#finish(job, sources)),
      (err) => this.#finish(job, undefined, `internal emulator error: ${String(err)}`),
    );
  }

  #finish(job: Job, sources: ResolvedSource[] | undefined, error?: string): void {
    job.endedMs = Date.now();
    const message = error ?? job.failWith;
    if (message !== undefined || !sources) {
      job.status = 'FAILED';
      job.message = message ?? 'job failed';
      this.#deps.stats.jobsFailed++;
    } else {
      job.sources = sources;
      const results = this.predictions(job);
      job.numPredictions = results.reduce((n, r) => n + (r.results?.predictions.length ?? 0), 0);
      // Whole-source errors count too, so `num_errors > 0` always means something went wrong.
      job.numErrors = results.reduce((n, r) => n + (r.results?.errors.length ?? 0) + (r.error === undefined ? 0 : 1), 0);
      job.status = 'COMPLETED';
      this.#deps.stats.jobsCompleted++;
    }
    this.#deps.onFinished(job);
  }

  async #resolveSources(request: EchoedRequest): Promise<ResolvedSource[]> {
    const urls = await Promise.all(request.urls.map((url) => this.#resolveUrl(url)));
    const texts = request.text.map((text): ResolvedSource => ({
      source: { type: 'text' }, file: 'text', kind: 'text', contentKey: `text:${sha256Hex(text)}`, text,
    }));
    const files = request.files.map((f): ResolvedSource => ({
      source: { type: 'file', ...f }, file: f.filename, kind: mediaKind(f.filename, f.content_type), contentKey: `md5:${f.md5sum}`,
    }));
    return [...urls, ...files, ...texts];
  }

  async #resolveUrl(url: string): Promise<ResolvedSource> {
    const { options, dispatcher, timers } = this.#deps;
    const file = urlFileName(url);
    const base = { source: { type: 'url' as const, url }, file };
    const fetch = options.fetchUrls === 'all' || (options.fetchUrls === 'loopback' && isLoopback(url));
    if (!fetch) return { ...base, kind: mediaKind(file), contentKey: `url:${url}` };
    try {
      const got = await download(url, { dispatcher, signal: timers.signal, timeoutMs: options.fetchTimeoutMs });
      // Keyed by content hash, so a file sent by URL and uploaded gets the same scores.
      return { ...base, kind: mediaKind(file, got.contentType), contentKey: `md5:${got.md5}` };
    } catch (err) {
      if (timers.signal.aborted) throw err;
      return { ...base, kind: 'unknown', contentKey: '', error: (err as Error).message };
    }
  }

  /** Predictions of a COMPLETED job, rebuilt from its resolved sources. */
  predictions(job: Job): SourceResult[] {
    return (job.sources ?? []).map((s) => predictSource(s, job.request));
  }

  list(q: ListQuery): Job[] {
    const key = { created: 'createdMs', started: 'startedMs', ended: 'endedMs' } as const;
    const field = key[q.sortBy];
    const sign = q.direction === 'asc' ? 1 : -1;
    const ts = q.timestampMs;
    return [...this.#jobs.values()]
      .filter((j) => !q.statuses || q.statuses.includes(j.status))
      .filter((j) => ts === undefined || (q.when === 'created_after' ? j.createdMs > ts : j.createdMs < ts))
      // Jobs without the sort timestamp (not started or ended yet) go last either way.
      .sort((a, b) => {
        const x = a[field];
        const y = b[field];
        if (x === undefined || y === undefined) return (x === undefined ? 1 : 0) - (y === undefined ? 1 : 0);
        return sign * (x - y);
      })
      .slice(0, q.limit);
  }
}

/** The job object of the wire contract (`UnionJob`), with each state's fields only. */
export function jobJson(job: Job): object {
  const state: Record<string, unknown> = { status: job.status, created_timestamp_ms: job.createdMs };
  if (job.status !== 'QUEUED') state['started_timestamp_ms'] = job.startedMs;
  if (job.status === 'COMPLETED' || job.status === 'FAILED') state['ended_timestamp_ms'] = job.endedMs;
  if (job.status === 'COMPLETED') Object.assign(state, { num_predictions: job.numPredictions, num_errors: job.numErrors });
  if (job.status === 'FAILED') state['message'] = job.message;
  return { type: 'INFERENCE', job_id: job.id, user_id: EMULATOR_USER_ID, request: job.request, state };
}
