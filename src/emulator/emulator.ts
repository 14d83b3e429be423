/**
 * `startHumeEmulator`: wires options, jobs, faults, callbacks and the HTTP server together,
 * and owns their lifetime.
 */
import { Agent } from 'undici';
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
  /** Stops timers, downloads, pending callbacks and the server; removes the temp work folder. */
  close(): Promise<void>;
}

export async function startHumeEmulator(options?: HumeEmulatorOptions): Promise<HumeEmulator> {
  const opts = resolveOptions(options);
  const files = await JobFiles.open(opts.dataDir);
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
    onFinished: (job) => {
      opts.logger?.info(`job ${job.id} ${job.status}`);
      const url = job.request.callback_url;
      if (!url) return;
      sendCallback(callbackDeps, url, job.status === 'COMPLETED' && job.predictions
        ? completedBody(job.id, job.predictions)
        : jsonBody({ job_id: job.id, status: job.status, predictions: [], message: job.message }));
    },
  });
  const app = buildServer({ options: opts, jobs, files, faults, stats, timers });
  try {
    await app.listen({ host: opts.host, port: opts.port });
  } catch (err) {
    await Promise.all([timers.close(), dispatcher.close(), files.close()]);
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  opts.logger?.info(`listening on ${url}`);

  let closing: Promise<void> | undefined;
  return {
    url,
    apiKey: opts.apiKey,
    setFaults: (partial) => void faults.set(partial),
    failNext: (rule) => faults.failNext(rule),
    failNextJobs: (count, message) => faults.failNextJobs(count, message),
    stats: () => structuredClone(stats),
    close: () => {
      closing ??= (async () => {
        await timers.close();
        await app.close();
        await dispatcher.close();
        await files.close();
      })();
      return closing;
    },
  };
}
