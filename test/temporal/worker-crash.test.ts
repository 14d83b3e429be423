import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/devserver/index.js';
import { type HumeEmulator, startHumeEmulator } from '../../src/emulator/index.js';
import { HumeClient } from '../../src/hume/client.js';
import { submissionKeyOf } from '../../src/webhook/index.js';
import { humeJob, statusQuery } from '../../src/workflows/index.js';
import { spawnCli, waitForLine } from '../helpers/spawn.js';
import { uniqueId } from '../helpers/temporal.js';

const API_KEY = 'crash-test-api-key-0001';

describe('the worker process killed mid-job', () => {
  let emulator: HumeEmulator;
  let connection: Connection;
  let env: NodeJS.ProcessEnv;
  const workers: ChildProcessWithoutNullStreams[] = [];

  beforeAll(async () => {
    // Jobs take long enough for the worker to die while the workflow waits.
    emulator = await startHumeEmulator({ apiKey: API_KEY, timing: { queuedMs: 500, processingMs: 4_000 } });
    connection = await Connection.connect({ address: inject('temporalAddress') });
    const webhookPort = await freePort();
    env = {
      ...process.env,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: uniqueId('crash'),
      HUME_API_KEY: API_KEY,
      HUME_BASE_URL: emulator.url,
      HUME_CALLBACK_BASE_URL: `http://127.0.0.1:${webhookPort}`,
      HUME_WEBHOOK_PORT: String(webhookPort),
      HUME_WEBHOOK_SECRET: 'crash-test-webhook-secret',
    };
  });

  afterAll(async () => {
    for (const worker of workers) worker.kill('SIGKILL');
    await connection.close();
    await emulator.close();
  });

  async function startWorker() {
    const worker = spawnCli(['worker'], env);
    workers.push(worker);
    await waitForLine(worker, /worker polling task queue/);
    return worker;
  }

  it('still finishes after a restart, with one Hume job created', async () => {
    const first = await startWorker();
    const client = new Client({ connection });
    const handle = await client.workflow.start(humeJob, {
      taskQueue: env.TEMPORAL_TASK_QUEUE!,
      workflowId: uniqueId('crash-job'),
      args: [
        {
          texts: ['Survive the crash.'],
          config: { models: { language: {} } },
          resultDir: join(mkdtempSync(join(tmpdir(), 'crash-')), 'job'),
          polling: { firstPollAfter: '2 seconds' },
        },
      ],
    });
    await expect.poll(async () => (await handle.query(statusQuery)).phase, { timeout: 60_000 }).toBe('waiting');
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));

    await startWorker();
    const result = await handle.result();
    expect(result.status).toBe('COMPLETED');
    expect(result.jobIds).toHaveLength(1);

    // Count on the server's own list endpoint: exactly one job carries this run's submission key.
    const hume = new HumeClient({ apiKey: API_KEY, baseUrl: emulator.url });
    const jobs = await hume.listJobs({ limit: 100 });
    const ours = jobs.filter((job) => submissionKeyOf(job.request.callback_url)?.startsWith(handle.workflowId));
    expect(ours.map((job) => job.job_id)).toEqual([result.jobId]);
  });

  it('shuts down gracefully on SIGTERM', async () => {
    const worker = workers.at(-1) ?? (await startWorker());
    const exit = new Promise<number | null>((resolve) => worker.once('exit', resolve));
    worker.kill('SIGTERM');
    expect(await exit).toBe(0);
  });
});
