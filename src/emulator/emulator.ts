/**
 * `startHumeEmulator`: wires options, jobs, faults, callbacks and the HTTP server together,
 * and owns their lifetime.
 */
import { Agent } from 'undici';
import { createBackends, describeBackends, type BackendInfo } from './backends/index.js';
import { completedBody, jsonBody, sendCallback } from './callbacks.js';
import { FaultInjector } from './faults.js';
import { JobFiles } from './job-files.js';
import { JobStore } from './jobs.js';
import { resolveOptions, type FailNextRule, type Faults, type HumeEmulatorOptions } from './options.js';
import { createRandom } from './random.js';
import { buildServer } from './server.js';
import { createStats, type EmulatorStats } from './stats.js';
import { Timers } from './timers.js';

export interface HumeEmulator {
  /** Base URL, e.g. `http://127.0.0.1:41234`; the API is under `/v0/batch`. */
  readonly url: string;
  readonly apiKey: string;
  /** Changes faults at run time; unspecified ones keep their value. */
  setFaults(faults: Partial<Faults>): void;
  /** Deterministic one-shot faults: the next `count` matching requests fail. */
  failNext(rule: FailNextRule): void;
  /** The next `count` created jobs end FAILED with `message`. */
  failNextJobs(count: number, message?: string): void;
  /** A snapshot of the counters. */
  stats(): EmulatorStats;
  /** Where every model's predictions come from (also `GET /v0/info`). */
  backends(): BackendInfo[];
  /** Stops timers, downloads, pending callbacks, the server and the backends it created; removes the temp work folder. */
  close(): Promise<void>;
}

export async function startHumeEmulator(options?: HumeEmulatorOptions): Promise<HumeEmulator> {
  const opts = resolveOptions(options);
  // First: a backend that cannot load (face-api's packages missing) stops the start before anything else exists.
  const backends = await createBackends(opts.backends, { http: opts.httpBackend });
  const files = await JobFiles.open(opts.dataDir).catch(async (err: unknown) => {
    await backends.close();
    throw err;
  });
  const timers = new Timers();
  const stats = createStats();
  // Separate streams, so turning one fault on does not shift job timings or other draws.
  const faults = new FaultInjector(opts.faults, createRandom(`${opts.seed}|faults`));
  const callbackRandom = createRandom(`${opts.seed}|callbacks`);
  // Own connection pool for downloads and callbacks, closed with the emulator.
  const dispatcher = new Agent({ keepAliveTimeout: 1_000 });
  const callbackDeps = {
    config: opts.callback,
    dispatcher,
    faults: () => faults.faults,
    random: callbackRandom,
    stats,
    timers,
    logger: opts.logger,
  };
  const jobs = new JobStore({
    options: opts,
    timers,
    random: createRandom(`${opts.seed}|timing`),
    faults,
    dispatcher,
    stats,
    backends: backends.byModel,
    onFinished: (job) => {
      opts.logger?.info(`job ${job.id} ${job.status}`);
      const url = job.request.callback_url;
      if (!url) return;
      sendCallback(callbackDeps, url, job.status === 'COMPLETED' && job.predictions
        ? completedBody(job.id, job.predictions)
        : jsonBody({ job_id: job.id, status: job.status, predictions: [], message: job.message }));
    },
  });
  const app = buildServer({ options: opts, jobs, files, faults, stats, timers, backends: () => backends.info() });
  try {
    await app.listen({ host: opts.host, port: opts.port });
  } catch (err) {
    await Promise.all([timers.close(), dispatcher.close(), backends.close(), files.close()]);
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  opts.logger?.info(`listening on ${url}`);
  opts.logger?.info(describeBackends(backends.info()));
  if (opts.fetchUrls !== 'all' && Object.keys(backends.byModel).length > 0) {
    opts.logger?.warn(`fetchUrls is ${opts.fetchUrls}: real backends get no bytes for URLs the server does not download (per-file errors); use fetchUrls: all for remote URLs`);
  }

  let closing: Promise<void> | undefined;
  return {
    url,
    apiKey: opts.apiKey,
    setFaults: (partial) => void faults.set(partial),
    failNext: (rule) => faults.failNext(rule),
    failNextJobs: (count, message) => faults.failNextJobs(count, message),
    stats: () => structuredClone(stats),
    backends: () => backends.info(),
    close: () => {
      closing ??= (async () => {
        await timers.close(); // aborts predictions in flight, so backends are idle below
        await app.close();
        await dispatcher.close();
        await backends.close();
        await files.close();
      })();
      return closing;
    },
  };
}
