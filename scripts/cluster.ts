/**
 * A production-shaped cluster, run for real: the full Temporal server on PostgreSQL, two worker
 * processes in working directories of their own that share no folder (each sees only S3), the
 * webhook receiver as its own process, and a mixed manifest from S3 to S3 started with the CLI
 * (`temporal-hume run s3://… --out s3://…`). During the run one worker is killed with SIGKILL
 * (and restarted), PostgreSQL is restarted once and the Temporal server once. Afterwards: every
 * item exactly once in the S3 index, predictions for every job in S3, no duplicate Hume job, and
 * nothing on either worker's disk but temp files. Prints the figures.
 *
 *   npx tsx scripts/cluster.ts [--items 1200] [--json]
 *
 * test/cluster/cluster.test.ts runs a smaller one and asserts the figures.
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { getRun } from '../src/client.js';
import { startS3Server } from '../src/devserver/s3-server.js';
import { startTemporalCluster } from '../src/devserver/temporal-cluster.js';
import { startHumeEmulator } from '../src/emulator/index.js';
import { HumeClient } from '../src/hume/client.js';
import { createStorage } from '../src/store/storage.js';
import { historiesOnTaskQueue } from '../test/helpers/history.js';
import { serveFolder, writeMixedManifest } from '../test/helpers/manifests.js';
import { uploadFolder } from '../test/helpers/s3.js';
import { runCli, spawnCli, waitForLine } from '../test/helpers/spawn.js';
import { WorkerProcesses, workerEnv } from '../test/helpers/worker-process.js';
import { auditResults, type Disturbance, driveRun, listHumeJobs } from './run-audit.js';

export interface ClusterOptions {
  /** Manifest lines (15 make a Hume job). @default 1200 */
  items?: number;
  log?: (message: string) => void;
  /** Stops the run early (cleaning up everything it started). */
  signal?: AbortSignal;
}

type ClusterEvent = 'kill-worker' | 'restart-postgres' | 'restart-temporal';

const API_KEY = 'cluster-api-key-0001';
const WEBHOOK_SECRET = 'cluster-webhook-secret-0001';
const TASK_QUEUE = 'cluster';
const RUN_ID = 'cluster';
const MODELS = 'language,prosody,face';
// Small jobs, so even the CI size makes dozens and a window worth disturbing.
const PER_KIND_PER_JOB = '5';
const RESULTS_ROOT = 's3://results/runs';
const MANIFEST = 's3://inputs/survey/manifest.jsonl';

export async function runCluster(options: ClusterOptions = {}) {
  const items = options.items ?? 1200;
  const log = options.log ?? (() => undefined);
  const dir = await mkdtemp(join(tmpdir(), 'cluster-'));
  const cleanups: Array<() => Promise<unknown>> = [];
  const startedAt = Date.now();
  try {
    const s3 = await startS3Server({ dir: join(dir, 's3') });
    cleanups.push(() => s3.stop());
    await s3.createBucket('inputs');
    await s3.createBucket('results');
    const temporal = await startTemporalCluster({ log });
    cleanups.push(() => temporal.stop());
    log(`Temporal ${temporal.address} on PostgreSQL ${temporal.postgres.port}, S3 ${s3.endpoint}: up in ${seconds(startedAt)} s`);

    const emulator = await startHumeEmulator({
      apiKey: API_KEY,
      timing: { queuedMs: [100, 400], processingMs: [200, 1_000] },
      faults: { callbackDuplicateRate: 0.1 },
    });
    cleanups.push(() => emulator.close());
    // The ambiguous case once: a job created whose answer is lost.
    emulator.failNext({ count: 1, route: 'submit', reset: true, afterHandling: true });

    // The manifest and its media files go to S3; URL items are served from loopback, as from the web.
    const inputs = join(dir, 'inputs');
    const media = await serveFolder(join(inputs, 'media'));
    cleanups.push(() => media.close());
    const manifest = await writeMixedManifest(inputs, items, media.url);
    await uploadFolder(s3.client(), 'inputs', 'survey', inputs);

    const receiverEnv = { ...process.env, TEMPORAL_ADDRESS: temporal.address, TEMPORAL_NAMESPACE: temporal.namespace, HUME_WEBHOOK_SECRET: WEBHOOK_SECRET, HUME_WEBHOOK_PORT: '0' };
    const receiver = spawnCli(['webhook'], receiverEnv, dir);
    cleanups.push(async () => receiver.kill('SIGTERM'));
    const receiverUrl = (await waitForLine(receiver, /listening on (http:\S+)/))[1] as string;

    // Each worker in its own folder, its temp files in it too, so its whole disk use can be read afterwards.
    const workerDirs = ['worker-a', 'worker-b'].map((name) => join(dir, name));
    const workers: WorkerProcesses[] = [];
    for (const workerDir of workerDirs) {
      await mkdir(join(workerDir, 'tmp'), { recursive: true });
      const env = await workerEnv({
        temporalAddress: temporal.address,
        taskQueue: TASK_QUEUE,
        humeUrl: emulator.url,
        apiKey: API_KEY,
        webhookSecret: WEBHOOK_SECRET,
        extra: { ...s3.env(), HUME_WEBHOOK_RECEIVER: 'off', HUME_CALLBACK_BASE_URL: receiverUrl, HUME_RESULTS_ROOT: RESULTS_ROOT, TMPDIR: join(workerDir, 'tmp') },
      });
      const worker = new WorkerProcesses(env, workerDir);
      await worker.start();
      cleanups.push(() => worker.stop());
      workers.push(worker);
    }

    // Started as a user would: the CLI, with S3 locations and only environment configuration.
    const cliEnv = { ...process.env, ...s3.env(), TEMPORAL_ADDRESS: temporal.address, TEMPORAL_NAMESPACE: temporal.namespace, TEMPORAL_TASK_QUEUE: TASK_QUEUE };
    const started = await runCli(
      ['run', MANIFEST, '--out', RESULTS_ROOT, '--run-id', RUN_ID, '--models', MODELS, '--texts-per-job', PER_KIND_PER_JOB, '--urls-per-job', PER_KIND_PER_JOB, '--files-per-job', PER_KIND_PER_JOB, '--max-jobs-in-flight', '4', '--first-poll-after', '2 seconds', '--max-poll-interval', '10 seconds', '--no-wait', '--json'],
      cliEnv,
      inputs,
    );
    if (started.code !== 0) throw new Error(`temporal-hume run exited ${started.code}: ${started.stderr.trim()}`);
    const connection = await Connection.connect({ address: temporal.address });
    cleanups.push(() => connection.close());
    const client = new Client({ connection, namespace: temporal.namespace });
    const run = getRun(client, RUN_ID);
    log(`run started: ${items} items, 2 workers, receiver ${receiverUrl}`);

    const recoveries: Partial<Record<ClusterEvent, number>> = {};
    const timed = (name: ClusterEvent, fire: () => Promise<void>): Disturbance<ClusterEvent> => ({
      name,
      fire: async () => {
        const at = Date.now();
        await fire();
        recoveries[name] = Date.now() - at;
      },
    });
    const events = [
      timed('kill-worker', async () => {
        await workers[0]!.kill();
        await workers[0]!.start();
      }),
      timed('restart-postgres', () => temporal.restartPostgres()),
      timed('restart-temporal', () => temporal.restartTemporal()),
    ];
    const fired = await driveRun(run, client, events, log, options.signal);
    const result = await run.result();
    const final = await run.progress();
    log(`run ${result.state} in ${seconds(startedAt)} s`);
    for (const worker of workers) await worker.stop();

    const histories = await historiesOnTaskQueue(client, TASK_QUEUE, 1 + final.jobs.planned);
    const jobs = await listHumeJobs(new HumeClient({ apiKey: API_KEY, baseUrl: emulator.url }));
    const stats = emulator.stats();
    const audit = await auditResults(createStorage({ s3: s3.client() }).folder(result.runDir), manifest.validLines);
    const disks = await Promise.all(workerDirs.map(diskUse));
    const identities = [...activityIdentities(histories.map((h) => h.history))];
    return {
      items,
      validItems: manifest.validLines.length,
      state: result.state,
      runDir: result.runDir,
      durationS: Math.round((Date.now() - startedAt) / 1000),
      disturbances: fired,
      recoveryMs: recoveries,
      workerProcesses: workers.reduce((sum, w) => sum + w.started, 0),
      // Worker folders one of whose processes started activity tasks (identity `pid@host`).
      workersThatRanActivities: workers.filter((w) => w.pids.some((pid) => identities.some((id) => id.startsWith(`${pid}@`)))).length,
      batches: final.jobs.planned,
      resubmissions: final.resubmissions,
      humeJobs: { created: stats.jobsCreated, listed: jobs.count, expected: final.jobs.planned + final.resubmissions, duplicates: jobs.duplicates },
      results: audit,
      workerDisks: disks,
    };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}
export type ClusterFigures = Awaited<ReturnType<typeof runCluster>>;

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

/** What a worker left in its folder: files outside its temp folder (should be none), and inside it. */
async function diskUse(workerDir: string): Promise<{ outsideTmp: string[]; tmpFiles: number; downloadScratch: number }> {
  const entries = await readdir(workerDir, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => relative(workerDir, join(e.parentPath, e.name)));
  const inTmp = (file: string) => file.startsWith('tmp/');
  return {
    outsideTmp: files.filter((file) => !inTmp(file)),
    // Mostly tsx's compile cache; a download cut by the SIGKILL may leave its partial copy.
    tmpFiles: files.filter(inTmp).length,
    downloadScratch: files.filter((file) => file.startsWith('tmp/temporal-hume/')).length,
  };
}

/** The worker identities (pid@host) that started activity tasks in these histories. */
function activityIdentities(histories: Array<{ events?: Array<{ activityTaskStartedEventAttributes?: { identity?: string | null } | null }> | null }>): Set<string> {
  const identities = new Set<string>();
  for (const history of histories) {
    for (const event of history.events ?? []) {
      const identity = event.activityTaskStartedEventAttributes?.identity;
      if (identity) identities.add(identity);
    }
  }
  return identities;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { items: { type: 'string' }, json: { type: 'boolean' } } });
  const interrupt = new AbortController();
  process.once('SIGINT', () => interrupt.abort(new Error('interrupted')));
  const figures = await runCluster({ signal: interrupt.signal, items: values.items ? Number(values.items) : undefined, log: (m) => process.stderr.write(`${m}\n`) });
  process.stdout.write(values.json ? `${JSON.stringify(figures, null, 2)}\n` : `${format(figures)}\n`);
}

function format(f: ClusterFigures): string {
  const rows: Array<[string, string | number]> = [
    ['items (valid)', `${f.items} (${f.validItems})`],
    ['run', `${f.state} in ${f.durationS} s, results in ${f.runDir}`],
    ['disturbances', f.disturbances.map((name) => `${name} (${f.recoveryMs[name]} ms)`).join(', ')],
    ['worker processes started / worker folders whose processes ran activities', `${f.workerProcesses} / ${f.workersThatRanActivities}`],
    ['batches planned / resubmissions', `${f.batches} / ${f.resubmissions}`],
    ['Hume jobs created / listed / expected', `${f.humeJobs.created} / ${f.humeJobs.listed} / ${f.humeJobs.expected}`],
    ['duplicate Hume jobs', f.humeJobs.duplicates.length],
    ['index rows / completed / distinct ids / missing', `${f.results.indexRows} / ${f.results.completed} / ${f.results.distinctCompletedIds} / ${f.results.missingLines}`],
    ['completed items with predictions in S3', f.results.withPredictions],
    ...Object.entries(f.results.csv).map(([model, c]): [string, string] => [`csv/${model}.csv rows (summary)`, `${c.rows} (${c.summaryRows}), unknown ids ${c.unknownIds}`]),
    ...f.workerDisks.map((d, i): [string, string] => [`worker ${'ab'[i]} files outside temp / in temp (download scratch)`, `${d.outsideTmp.length} / ${d.tmpFiles} (${d.downloadScratch})`]),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
