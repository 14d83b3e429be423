/**
 * Jobs and their state machine: QUEUED → IN_PROGRESS → COMPLETED | FAILED, with times drawn
 * from the configured ranges. Each job owns a folder: its texts (kept for the echo), uploads
 * and downloads (removed once predictions are written), `predictions.json` and, once asked for,
 * `artifacts.zip`. Memory holds only paths and counts.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Dispatcher } from 'undici';
import type { JobStatus } from '../hume/schemas.js';
import { writeArtifactsZip } from './artifacts.js';
import type { Backends, ModelConfigs } from './backends/index.js';
import type { FaultInjector } from './faults.js';
import { isLoopback, mediaKind, urlFileName } from './media.js';
import type { ResolvedOptions } from './options.js';
import { writePredictions } from './prediction-writer.js';
import type { ResolvedSource } from './predictions.js';
import type { Random } from './random.js';
import type { EchoedRequest, StoredUpload } from './request.js';
import type { EmulatorStats } from './stats.js';
import type { Timers } from './timers.js';
import { downloadToFile } from './url-download.js';

/** `user_id` appears in real job objects (hume-batch-api.md §3); one fixed id for the emulator. */
export const EMULATOR_USER_ID = '00000000-0000-4000-8000-00000000e0e0';

/** A file the emulator serves: predictions or artifacts. */
export interface ServedFile {
  path: string;
  bytes: number;
}

export interface Job {
  readonly id: string;
  /** The job's folder in the emulator's work folder. */
  readonly dir: string;
  readonly request: EchoedRequest;
  /** The models' options as sent, for backends (not echoed: the echo is `request`). */
  readonly configs: ModelConfigs;
  status: JobStatus;
  readonly createdMs: number;
  startedMs?: number;
  endedMs?: number;
  numPredictions?: number;
  numErrors?: number;
  message?: string;
  /** Set when the job COMPLETES. */
  predictions?: ServedFile;
  /** Built on the first request for artifacts, then kept. */
  artifacts?: Promise<ServedFile>;
  /** Decided at creation by fault injection: the job will end FAILED with this message. */
  readonly failWith: string | undefined;
}

/** What a submit hands over: the job's folder (named by its id) and what was stored in it. */
export interface NewJob {
  id: string;
  dir: string;
  request: EchoedRequest;
  configs: ModelConfigs;
  uploads: StoredUpload[];
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
  /** Real backends by model; the other models are synthetic. */
  backends: Backends;
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

  create(input: NewJob): Job {
    const { options, random, timers, faults, stats } = this.#deps;
    const job: Job = {
      id: input.id,
      dir: input.dir,
      request: input.request,
      configs: input.configs,
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
    timers.after(queuedMs, () => this.#start(job, input.uploads, processingMs));
    return job;
  }

  #start(job: Job, uploads: StoredUpload[], processingMs: number): void {
    this.#queued--;
    job.status = 'IN_PROGRESS';
    job.startedMs = Date.now();
    const { timers } = this.#deps;
    const work = job.failWith === undefined ? this.#predict(job, uploads) : this.#removeInputs(job, uploads).then(() => undefined);
    timers.track(
      Promise.all([work, timers.sleep(processingMs)]).then(([predicted]) => this.#finish(job, predicted)),
      (err) => this.#finish(job, undefined, `internal emulator error: ${String(err)}`),
    );
  }

  async #predict(job: Job, uploads: StoredUpload[]): Promise<{ file: ServedFile; numPredictions: number; numErrors: number }> {
    try {
      const sources = await this.#resolveSources(job, uploads);
      const path = join(job.dir, 'predictions.json');
      const real = { backends: this.#deps.backends, configs: job.configs };
      const written = await writePredictions(sources, job.request, path, this.#deps.timers.signal, real);
      return { file: { path, bytes: written.bytes }, numPredictions: written.numPredictions, numErrors: written.numErrors };
    } finally {
      await this.#removeInputs(job, uploads);
    }
  }

  #finish(job: Job, predicted: { file: ServedFile; numPredictions: number; numErrors: number } | undefined, error?: string): void {
    job.endedMs = Date.now();
    const message = error ?? job.failWith;
    if (message !== undefined || !predicted) {
      job.status = 'FAILED';
      job.message = message ?? 'job failed';
      this.#deps.stats.jobsFailed++;
    } else {
      job.predictions = predicted.file;
      job.numPredictions = predicted.numPredictions;
      job.numErrors = predicted.numErrors;
      job.status = 'COMPLETED';
      this.#deps.stats.jobsCompleted++;
    }
    this.#deps.onFinished(job);
  }

  /** Uploads and downloads are not needed once predictions exist; texts stay for the echo. */
  async #removeInputs(job: Job, uploads: StoredUpload[]): Promise<void> {
    const urls = job.request.urls.map((_, i) => urlPath(job, i));
    await Promise.all([...uploads.map((u) => u.path), ...urls].map((p) => rm(p, { force: true })));
  }

  async #resolveSources(job: Job, uploads: StoredUpload[]): Promise<ResolvedSource[]> {
    const { request } = job;
    const urls = await Promise.all(request.urls.map((url, i) => this.#resolveUrl(url, urlPath(job, i))));
    const files = uploads.map(({ echo, path, bytes }): ResolvedSource => ({
      source: { type: 'file', ...echo },
      file: echo.filename,
      kind: mediaKind(echo.filename, echo.content_type),
      contentKey: `md5:${echo.md5sum}`,
      path,
      bytes,
      contentType: echo.content_type,
    }));
    const texts = request.text.map(({ path, bytes, sha256 }): ResolvedSource => ({
      source: { type: 'text' }, file: 'text', kind: 'text', contentKey: `text:${sha256}`, path, bytes, contentType: null,
    }));
    return [...urls, ...files, ...texts];
  }

  async #resolveUrl(url: string, path: string): Promise<ResolvedSource> {
    const { options, dispatcher, timers } = this.#deps;
    const file = urlFileName(url);
    const base = { source: { type: 'url' as const, url }, file };
    const fetch = options.fetchUrls === 'all' || (options.fetchUrls === 'loopback' && isLoopback(url));
    if (!fetch) return { ...base, kind: mediaKind(file), contentKey: `url:${url}` };
    try {
      const got = await downloadToFile(url, path, { dispatcher, signal: timers.signal, timeoutMs: options.fetchTimeoutMs });
      const kind = mediaKind(file, got.contentType);
      // Over 1 GB: no path, `bytes` over MAX_URL_BYTES; the generator makes it a per-file error.
      if (got.path === undefined) return { ...base, kind, contentKey: `url:${url}`, bytes: got.bytes, contentType: got.contentType };
      // Keyed by content hash, so a file sent by URL and uploaded gets the same scores.
      return { ...base, kind, contentKey: `md5:${got.md5}`, path: got.path, bytes: got.bytes, contentType: got.contentType };
    } catch (err) {
      if (timers.signal.aborted) throw err;
      return { ...base, kind: 'unknown', contentKey: '', error: (err as Error).message };
    }
  }

  /** The artifacts zip of a COMPLETED job, built from its predictions once and kept. */
  artifacts(job: Job & { predictions: ServedFile }): Promise<ServedFile> {
    if (!job.artifacts) {
      const path = join(job.dir, 'artifacts.zip');
      const built = writeArtifactsZip(job.id, job.predictions.path, path).then(({ bytes }) => ({ path, bytes }));
      // A failed build is not kept: the next request tries again.
      built.catch(() => { if (job.artifacts === built) delete job.artifacts; });
      job.artifacts = built;
    }
    return job.artifacts;
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

const urlPath = (job: Job, index: number): string => join(job.dir, `url-${index}`);
