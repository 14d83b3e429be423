import { mkdtempSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startRun } from '../../src/client.js';
import { type HumeEmulator, startHumeEmulator } from '../../src/emulator/index.js';
import { decodeAll, historiesOnTaskQueue } from '../helpers/history.js';
import { serveFolder, writeMixedManifest } from '../helpers/manifests.js';
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

describe('secrets across a whole batch run', () => {
  let emulator: HumeEmulator;
  let media: Awaited<ReturnType<typeof serveFolder>>;
  let connection: Connection;
  let workers: WorkerProcesses;
  let taskQueue: string;
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
    taskQueue = uniqueId('secrets');
    workers = new WorkerProcesses(
      await workerEnv({ temporalAddress: inject('temporalAddress'), taskQueue, humeUrl: emulator.url, apiKey: API_KEY, webhookSecret: WEBHOOK_SECRET }),
    );
    await workers.start();
    connection = await Connection.connect({ address: inject('temporalAddress') });
  });

  afterAll(async () => {
    await workers?.stop();
    await connection?.close();
    await media?.close();
    await emulator?.close();
  });

  it('leaves neither the API key nor the webhook secret in any history, log line or result file', async () => {
    const manifest = await writeMixedManifest(dir, 48, media.url);
    const client = new Client({ connection });
    const run = await startRun(
      client,
      { runId: uniqueId('secrets-run'), outDir: join(dir, 'out'), manifest: { path: manifest.path }, config: { models: { language: {}, prosody: {}, face: {} } }, limits: { maxTextsPerJob: 5, maxUrlsPerJob: 5, maxFilesPerJob: 5 }, maxJobsInFlight: 4, polling: { firstPollAfter: '2 seconds' } },
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
    const files = await filesUnder(result.runDir);
    expect(files.length).toBeGreaterThan(progress.jobs.planned);
    const places: Array<[string, string]> = [
      ...histories.map(({ workflowId, runId, history }): [string, string] => [`history of ${workflowId} (${runId})`, decodeAll(history)]),
      ['worker and receiver output', workers.log],
      ...(await Promise.all(files.map(async (file): Promise<[string, string]> => [file, (await readFile(file)).toString('latin1')]))),
    ];
    // The scan reads real content: the histories hold the manifest path, the log the receiver's address.
    expect(places.some(([, text]) => text.includes(manifest.path))).toBe(true);
    expect(workers.log).toMatch(/webhook receiver listening/);
    for (const [where, text] of places) {
      for (const secret of [...forms(API_KEY), ...forms(WEBHOOK_SECRET)]) {
        expect(text.includes(secret), `${secret} found in ${where}`).toBe(false);
      }
    }
  });
});
