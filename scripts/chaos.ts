/**
 * Chaos end to end: a humeBatch over a mixed manifest against the Hume-compatible server with
 * faults on, while the worker process is killed with SIGKILL and the Temporal server (SQLite,
 * same port) is restarted. Then the results are audited: every valid item exactly once, no
 * duplicate Hume job, CSVs and summary agreeing with the index. Prints the figures.
 *
 *   npx tsx scripts/chaos.ts [--items 2000] [--kills 3] [--json]
 *
 * test/temporal/chaos.test.ts runs a smaller one and asserts the figures.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { type RunHandle, startRun } from '../src/client.js';
import { type DevServer, freePort, startDevServer } from '../src/devserver/index.js';
import { type Faults, startHumeEmulator } from '../src/emulator/index.js';
import { HumeClient } from '../src/hume/client.js';
import { serveFolder, writeMixedManifest } from '../test/helpers/manifests.js';
import { WorkerProcesses, workerEnv } from '../test/helpers/worker-process.js';
import { auditResults, type Disturbance, driveRun, listHumeJobs } from './run-audit.js';
import { createFsStore } from '../src/store/fs.js';

export interface ChaosOptions {
  /** Manifest lines. @default 2000 */
  items?: number;
  /** Worker SIGKILLs (each followed by a restart). @default 3 */
  kills?: number;
  /** Temporal server restarts. @default 1 */
  serverRestarts?: number;
  log?: (message: string) => void;
  /** Stops the run early (cleaning up everything it started). */
  signal?: AbortSignal;
}

/** What was injected. */
export const CHAOS_FAULTS: Partial<Faults> = {
  callbackDropRate: 0.3,
  callbackDuplicateRate: 0.1,
  serverErrorRate: 0.05,
  tooManyRequestsRate: 0.02,
  tooManyRequestsBurst: 5,
  resetRate: 0.02,
  jobFailureRate: 0.05,
};
/** Submits whose job is created but whose answer is lost (connection reset): the ambiguous case. */
const LOST_SUBMIT_ANSWERS = 3;
const FAILED_JOBS_AT_LEAST = 2;
// Small jobs, so even the CI size makes dozens of them and a sliding window worth disturbing.
const PER_KIND_PER_JOB = 5;
const API_KEY = 'chaos-api-key-0001';
const MODELS = { language: {}, prosody: {}, face: {} };

export async function runChaos(options: ChaosOptions = {}) {
  const items = options.items ?? 2000;
  const kills = options.kills ?? 3;
  const serverRestarts = options.serverRestarts ?? 1;
  const log = options.log ?? (() => undefined);
  const dir = await mkdtemp(join(tmpdir(), 'chaos-'));
  const cleanups: Array<() => Promise<unknown>> = [];
  const startedAt = Date.now();
  try {
    // A fixed port and a SQLite file: a restarted server is the same server at the same address.
    const port = await freePort();
    const dbFile = join(dir, 'temporal.db');
    let server: DevServer = await startDevServer({ dbFile, port, headless: true });
    cleanups.push(() => server.stop());
    const emulator = await startHumeEmulator({
      apiKey: API_KEY,
      timing: { queuedMs: [100, 500], processingMs: [300, 1_500] },
      faults: CHAOS_FAULTS,
    });
    cleanups.push(() => emulator.close());
    emulator.failNext({ count: LOST_SUBMIT_ANSWERS, route: 'submit', reset: true, afterHandling: true });
    // At a 5% rate, a CI-sized run (60 jobs) has no FAILED job about one time in twenty: two are certain.
    emulator.failNextJobs(FAILED_JOBS_AT_LEAST, 'chaos: injected job failure');
    const media = await serveFolder(join(dir, 'media'));
    cleanups.push(() => media.close());
    const manifest = await writeMixedManifest(dir, items, media.url);

    const workers = new WorkerProcesses(
      await workerEnv({ temporalAddress: server.address, taskQueue: 'chaos', humeUrl: emulator.url, apiKey: API_KEY, webhookSecret: 'chaos-webhook-secret-0001' }),
    );
    await workers.start();
    cleanups.push(() => workers.stop());
    const connection = await Connection.connect({ address: server.address });
    cleanups.push(() => connection.close());
    const client = new Client({ connection });

    const run = await startRun(
      client,
      {
        runId: 'chaos',
        outDir: join(dir, 'out'),
        manifest: { path: manifest.path },
        config: { models: MODELS },
        limits: { maxTextsPerJob: PER_KIND_PER_JOB, maxUrlsPerJob: PER_KIND_PER_JOB, maxFilesPerJob: PER_KIND_PER_JOB },
        maxJobsInFlight: 8,
        maxJobAttempts: 5,
        // Resubmissions are what is tested here, not their pacing.
        resubmitDelay: '1 second',
        // Dropped callbacks cost one short wait, not minutes.
        polling: { firstPollAfter: '2 seconds', maxInterval: '10 seconds' },
      },
      { taskQueue: 'chaos' },
    );
    log(`run started: ${items} items, worker ${workers.started}, Temporal ${server.address}`);

    const kill: Disturbance<ChaosEvent> = {
      name: 'kill',
      fire: async () => {
        await workers.kill();
        await workers.start();
      },
    };
    const restartServer: Disturbance<ChaosEvent> = {
      name: 'restart-server',
      fire: async () => {
        await server.stop();
        server = await startDevServer({ dbFile, port, headless: true });
      },
    };
    const events: Disturbance<ChaosEvent>[] = Array.from({ length: kills }, () => kill);
    for (let i = 0; i < serverRestarts; i++) events.splice(Math.floor(((i + 1) * events.length) / (serverRestarts + 1)), 0, restartServer);
    const fired = await driveRun(run, client, events, log, options.signal);
    const result = await run.result();
    const final = await run.progress();
    log(`run ${result.state} in ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);

    // The audit talks to the server without faults.
    emulator.setFaults({ serverErrorRate: 0, resetRate: 0, tooManyRequestsRate: 0 });
    const stats = emulator.stats();
    const jobs = await listHumeJobs(new HumeClient({ apiKey: API_KEY, baseUrl: emulator.url }));
    const audit = await auditResults(createFsStore(result.runDir), manifest.validLines);
    return {
      items,
      validItems: manifest.validLines.length,
      state: result.state,
      durationS: Math.round((Date.now() - startedAt) / 1000),
      workerKills: fired.filter((e) => e === 'kill').length,
      serverRestarts: fired.filter((e) => e === 'restart-server').length,
      workerProcesses: workers.started,
      batches: final.jobs.planned,
      resubmissions: final.resubmissions,
      continuedAsNew: final.continuedAsNew,
      humeJobs: {
        created: stats.jobsCreated,
        listed: jobs.count,
        expected: final.jobs.planned + final.resubmissions,
        failed: stats.jobsFailed,
        runCounted: final.humeJobsCreated,
        duplicates: jobs.duplicates,
      },
      faults: {
        injected: stats.faultsInjected,
        lostSubmitAnswers: LOST_SUBMIT_ANSWERS,
        throttled: stats.throttled,
        callbacksDropped: stats.callbacksDropped,
        callbackAttempts: stats.callbackAttempts,
        callbacksSent: stats.callbacksSent,
        callbacksFailed: stats.callbacksFailed,
        requests: stats.requests,
      },
      results: audit,
    };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}
export type ChaosFigures = Awaited<ReturnType<typeof runChaos>>;
type ChaosEvent = 'kill' | 'restart-server';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { items: { type: 'string' }, kills: { type: 'string' }, json: { type: 'boolean' } } });
  // Ctrl-C stops the run through the same cleanup, so no server or worker is left behind.
  const interrupt = new AbortController();
  process.once('SIGINT', () => interrupt.abort(new Error('interrupted')));
  const figures = await runChaos({
    signal: interrupt.signal,
    items: values.items ? Number(values.items) : undefined,
    kills: values.kills ? Number(values.kills) : undefined,
    log: (m) => process.stderr.write(`${m}\n`),
  });
  process.stdout.write(values.json ? `${JSON.stringify(figures, null, 2)}\n` : `${format(figures)}\n`);
}

function format(f: ChaosFigures): string {
  const rows: Array<[string, string | number]> = [
    ['items (valid)', `${f.items} (${f.validItems})`],
    ['run', `${f.state} in ${f.durationS} s, ${f.continuedAsNew} continue-as-new`],
    ['worker kill -9 / server restarts', `${f.workerKills} / ${f.serverRestarts}`],
    ['batches planned', f.batches],
    ['Hume jobs created / listed / expected', `${f.humeJobs.created} / ${f.humeJobs.listed} / ${f.humeJobs.expected}`],
    ['jobs FAILED (injected) / resubmissions', `${f.humeJobs.failed} / ${f.resubmissions}`],
    ['duplicate Hume jobs', f.humeJobs.duplicates.length],
    ['API faults injected (5xx, 429, resets)', f.faults.injected],
    ['submit answers lost after create', f.faults.lostSubmitAnswers],
    ['callbacks dropped / attempts / sent / given up', `${f.faults.callbacksDropped} / ${f.faults.callbackAttempts} / ${f.faults.callbacksSent} / ${f.faults.callbacksFailed}`],
    ['index rows / completed / distinct ids / missing', `${f.results.indexRows} / ${f.results.completed} / ${f.results.distinctCompletedIds} / ${f.results.missingLines}`],
    ['completed items with predictions on disk', f.results.withPredictions],
    ...Object.entries(f.results.csv).map(([model, c]): [string, string] => [`csv/${model}.csv rows (summary)`, `${c.rows} (${c.summaryRows}), unknown ids ${c.unknownIds}`]),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`chaos: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
