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
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { parse as parseCsv } from 'csv-parse/sync';
import { type RunHandle, startRun } from '../src/client.js';
import { type DevServer, freePort, startDevServer } from '../src/devserver/index.js';
import { type Faults, startHumeEmulator } from '../src/emulator/index.js';
import { HumeClient } from '../src/hume/client.js';
import { jobDir, OUTCOME_JSON, PREDICTIONS_JSON } from '../src/results/layout.js';
import type { BatchOutcome } from '../src/schemas/batch.js';
import { submissionKeyOf } from '../src/webhook/token.js';
import type { RunProgress } from '../src/workflows/definitions.js';
import { serveFolder, writeMixedManifest } from '../test/helpers/manifests.js';
import { WorkerProcesses, workerEnv } from '../test/helpers/worker-process.js';

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
/** No progress for this long means the run is stuck, not slow (a lost activity costs at most 1 minute). */
const STALL_MS = 90_000;
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
    // At a 5% rate, a CI-sized run of 30 jobs has no FAILED job one time in five: two are certain.
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

    const kill: Disturbance = {
      name: 'kill',
      fire: async () => {
        await workers.kill();
        await workers.start();
      },
    };
    const restartServer: Disturbance = {
      name: 'restart-server',
      fire: async () => {
        await server.stop();
        server = await startDevServer({ dbFile, port, headless: true });
      },
    };
    const events: Disturbance[] = Array.from({ length: kills }, () => kill);
    for (let i = 0; i < serverRestarts; i++) events.splice(Math.floor(((i + 1) * events.length) / (serverRestarts + 1)), 0, restartServer);
    const fired = await driveRun(run, client, events, log, options.signal);
    const result = await run.result();
    const final = await run.progress();
    log(`run ${result.state} in ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);

    // The audit talks to the server without faults.
    emulator.setFaults({ serverErrorRate: 0, resetRate: 0, tooManyRequestsRate: 0 });
    const stats = emulator.stats();
    const jobs = await listJobs(new HumeClient({ apiKey: API_KEY, baseUrl: emulator.url }));
    const audit = await auditFolder(result.runDir, manifest.validLines);
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

interface Disturbance {
  name: 'kill' | 'restart-server';
  fire(): Promise<void>;
}

/**
 * Polls the run to its end, firing the disturbances one by one, evenly spread by jobs completed
 * (so the run cannot finish first). Fails when the run stops moving. Returns what was fired.
 */
async function driveRun(run: RunHandle, client: Client, events: Disturbance[], log: (m: string) => void, signal?: AbortSignal) {
  const fired: Disturbance['name'][] = [];
  let progress: RunProgress | undefined;
  let lastLog = 0;
  let lastChange = { at: Date.now(), key: '' };
  for (;;) {
    signal?.throwIfAborted();
    // Fails while Temporal restarts: keep the last answer.
    progress = await run.progress().catch(() => progress);
    if (progress && ['completed', 'failed', 'cancelled'].includes(progress.state)) return fired;
    if (progress && Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      log(`${progress.state}: jobs ${progress.jobs.completed}/${progress.jobs.planned} done, ${progress.jobs.inFlight} in flight, ${progress.humeJobsCreated} Hume jobs created`);
    }
    const key = JSON.stringify([progress?.state, progress?.jobs, progress?.humeJobsCreated]);
    if (key !== lastChange.key) lastChange = { at: Date.now(), key };
    else if (Date.now() - lastChange.at > STALL_MS) throw new Error(await diagnoseStall(client, progress));
    const next = events[fired.length];
    const due = progress && next && progress.jobs.planned > 0 && progress.jobs.completed >= ((fired.length + 1) * progress.jobs.planned) / (events.length + 1);
    if (due) {
      log(`${next.name} at ${progress?.jobs.completed}/${progress?.jobs.planned} jobs`);
      await next.fire();
      fired.push(next.name);
    } else {
      await sleep(500);
    }
  }
}

/** Why a run stopped moving: children the parent still counts as in flight that are no longer running. */
async function diagnoseStall(client: Client, progress: RunProgress | undefined): Promise<string> {
  const running: string[] = [];
  for await (const execution of client.workflow.list({ query: 'ExecutionStatus = "Running" AND WorkflowType = "humeJob"' })) {
    running.push(execution.workflowId);
  }
  return (
    `run stalled for ${STALL_MS / 1000} s: progress ${JSON.stringify(progress?.jobs)}, humeJob children still running: ` +
    `${running.length ? running.join(', ') : 'none'}` +
    (progress && progress.jobs.inFlight > running.length ? ' — the parent lost the reports of finished batches' : '')
  );
}

/** Every job the server holds, and the submission keys that own more than one. */
async function listJobs(hume: HumeClient) {
  const byKey = new Map<string, string[]>();
  let count = 0;
  for await (const job of hume.iterateJobs({ pageSize: 500 })) {
    count++;
    const key = submissionKeyOf(job.request.callback_url) ?? `(no key) ${job.job_id}`;
    byKey.set(key, [...(byKey.get(key) ?? []), job.job_id]);
  }
  const duplicates = [...byKey].filter(([, ids]) => ids.length > 1).map(([key, jobIds]) => ({ key, jobIds }));
  return { count, duplicates };
}

interface IndexRow {
  id: string;
  line: number;
  batch: number;
  job_id: string;
  status: string;
}

/** Reads the results folder back: index, predictions behind every item, CSVs and summary. */
async function auditFolder(runDir: string, validLines: number[]) {
  const index = (await readFile(join(runDir, 'index.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as IndexRow);
  const completed = index.filter((row) => row.status === 'completed');
  const lines = new Set(completed.map((row) => row.line));

  // Each completed item points, through its batch's outcome, at a source in predictions.json.
  let withPredictions = 0;
  const outcomes = new Map<string, Promise<[BatchOutcome, unknown[]]>>();
  for (const row of completed) {
    const folder = join(runDir, jobDir(row.batch, row.job_id));
    if (!outcomes.has(folder)) {
      outcomes.set(folder, Promise.all([readJson<BatchOutcome>(join(folder, OUTCOME_JSON)), readJson<unknown[]>(join(folder, PREDICTIONS_JSON))]));
    }
    const [outcome, predictions] = await outcomes.get(folder)!;
    const source = outcome.items.find((item) => item.line === row.line)?.sourceIndex;
    if (source !== undefined && predictions[source] !== undefined) withPredictions++;
  }

  const summary = await readJson<{ items: Record<string, number>; humeJobsCreated: number; csv: Record<string, { path: string; rows: number }> }>(join(runDir, 'summary.json'));
  const ids = new Set(completed.map((row) => row.id));
  const csv: Record<string, { rows: number; summaryRows: number; unknownIds: number }> = {};
  for (const [model, { path, rows }] of Object.entries(summary.csv)) {
    const records = parseCsv(await readFile(join(runDir, path)), { columns: true }) as Array<{ item_id: string }>;
    csv[model] = { rows: records.length, summaryRows: rows, unknownIds: records.filter((r) => !ids.has(r.item_id)).length };
  }
  return {
    indexRows: index.length,
    completed: completed.length,
    notCompleted: index.length - completed.length,
    distinctCompletedIds: ids.size,
    missingLines: validLines.filter((line) => !lines.has(line)).length,
    withPredictions,
    summaryItems: summary.items,
    summaryHumeJobs: summary.humeJobsCreated,
    csv,
  };
}

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

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
