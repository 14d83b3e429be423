import { mkdtempSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startRun } from '../../src/client.js';
import { type HumeEmulator, startHumeEmulator } from '../../src/emulator/index.js';
import { startS3Server } from '../../src/devserver/s3-server.js';
import { decodeAll, historiesOnTaskQueue } from '../helpers/history.js';
import { serveFolder, writeMixedManifest } from '../helpers/manifests.js';
import { listKeys, readObject, uploadFolder } from '../helpers/s3.js';
import { uniqueId } from '../helpers/temporal.js';
import { WorkerProcesses, workerEnv } from '../helpers/worker-process.js';

// Distinctive, so a hit cannot be a coincidence.
const API_KEY = 'hume-sk-SECRETSCAN-4c1d8e2f9a7b6c5d';
const WEBHOOK_SECRET = 'whsec-SECRETSCAN-0a9b8c7d6e5f4a3b';
// The forms a secret could take on the way out: raw, base64, base64url, hex.
const forms = (secret: string) => [secret, Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('base64url'), Buffer.from(secret).toString('hex')];

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** Where the run's manifest and results live, and how the scan reads the results back. */
interface Place {
  /** AWS_* for the worker (none for local paths). */
  env: NodeJS.ProcessEnv;
  /** Secrets beyond the API key and the webhook secret. */
  secrets: string[];
  manifestPath: string;
  outDir: string;
  /** Every result file: its location and content. */
  results(runDir: string): Promise<Array<[string, string]>>;
  close(): Promise<void>;
}

async function localPlace(dir: string, manifestPath: string): Promise<Place> {
  return {
    env: {},
    secrets: [],
    manifestPath,
    outDir: join(dir, 'out'),
    results: async (runDir) => Promise.all((await filesUnder(runDir)).map(async (file): Promise<[string, string]> => [file, (await readFile(file)).toString('latin1')])),
    close: async () => {},
  };
}

/** The manifest and its media in one bucket, the results in another; the worker gets S3 only through AWS_* variables. */
async function s3Place(dir: string): Promise<Place> {
  const s3 = await startS3Server();
  await s3.createBucket('inputs');
  await s3.createBucket('results');
  await uploadFolder(s3.client(), 'inputs', 'survey', dir);
  return {
    env: s3.env(),
    secrets: [s3.secretAccessKey, s3.accessKeyId],
    manifestPath: 's3://inputs/survey/manifest.jsonl',
    outDir: 's3://results/out',
    async results(runDir) {
      const prefix = runDir.slice('s3://results/'.length);
      const keys = await listKeys(s3.client(), 'results', `${prefix}/`);
      return Promise.all(keys.map(async (key): Promise<[string, string]> => [`s3://results/${key}`, await readObject(s3.client(), 'results', key)]));
    },
    close: () => s3.stop(),
  };
}

describe.each([
  ['local folders', 'local'],
  ['S3', 's3'],
] as const)('secrets across a whole batch run on %s', (_, kind) => {
  let emulator: HumeEmulator;
  let media: Awaited<ReturnType<typeof serveFolder>>;
  let connection: Connection;
  let workers: WorkerProcesses;
  let taskQueue: string;
  let place: Place;
  const dir = mkdtempSync(join(tmpdir(), 'secrets-'));

  beforeAll(async () => {
    // Faults make the worker walk its error paths (retries, resubmission), where secrets tend to leak into logs.
    emulator = await startHumeEmulator({
      apiKey: API_KEY,
      timing: { queuedMs: [10, 30], processingMs: [20, 80] },
      faults: { serverErrorRate: 0.1, tooManyRequestsRate: 0.05, callbackDuplicateRate: 0.5 },
    });
    emulator.failNextJobs(1, 'injected failure for the secrets scan');
    media = await serveFolder(join(dir, 'media'));
    const manifest = await writeMixedManifest(dir, 48, media.url);
    place = kind === 's3' ? await s3Place(dir) : await localPlace(dir, manifest.path);
    taskQueue = uniqueId('secrets');
    workers = new WorkerProcesses(
      await workerEnv({ temporalAddress: inject('temporalAddress'), taskQueue, humeUrl: emulator.url, apiKey: API_KEY, webhookSecret: WEBHOOK_SECRET, extra: place.env }),
    );
    await workers.start();
    connection = await Connection.connect({ address: inject('temporalAddress') });
  });

  afterAll(async () => {
    await workers?.stop();
    await connection?.close();
    await media?.close();
    await emulator?.close();
    await place?.close();
  });

  it('leaves no secret (API key, webhook secret, storage credentials) in any history, log line or result file', async () => {
    const client = new Client({ connection });
    const run = await startRun(
      client,
      { runId: uniqueId('secrets-run'), outDir: place.outDir, manifest: { path: place.manifestPath }, config: { models: { language: {}, prosody: {}, face: {} } }, limits: { maxTextsPerJob: 5, maxUrlsPerJob: 5, maxFilesPerJob: 5 }, maxJobsInFlight: 4, polling: { firstPollAfter: '2 seconds' } },
      { taskQueue },
    );
    const result = await run.result();
    expect(result.summary.items).toMatchObject({ completed: 48, failed: 0 });
    const progress = await run.progress();
    expect(progress.resubmissions).toBeGreaterThanOrEqual(1);
    expect(emulator.stats().faultsInjected).toBeGreaterThan(0);
    // Stop the worker, so its log is complete.
    expect(await workers.stop()).toBe(0);

    const histories = await historiesOnTaskQueue(client, taskQueue, 1 + progress.jobs.planned);
    const files = await place.results(result.runDir);
    expect(files.length).toBeGreaterThan(progress.jobs.planned);
    const places: Array<[string, string]> = [
      ...histories.map(({ workflowId, runId, history }): [string, string] => [`history of ${workflowId} (${runId})`, decodeAll(history)]),
      ['worker and receiver output', workers.log],
      ...files,
    ];
    // The scan reads real content: the histories hold the manifest's location, the log the receiver's address.
    expect(places.some(([, text]) => text.includes(place.manifestPath))).toBe(true);
    expect(workers.log).toMatch(/webhook receiver listening/);
    for (const [where, text] of places) {
      for (const secret of [API_KEY, WEBHOOK_SECRET, ...place.secrets].flatMap(forms)) {
        expect(text.includes(secret), `${secret} found in ${where}`).toBe(false);
      }
    }
  });
});
