/**
 * What a worker tells an operator: its Prometheus endpoint serves the SDK's metrics and ours
 * (Hume requests by call and status, bytes, adoptions, resubmissions, callbacks, job latency),
 * and its log lines from workflow and activity code carry their workflow and activity ids.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startRun } from '../../src/client.js';
import { freePort } from '../../src/devserver/index.js';
import { type HumeEmulator, startHumeEmulator } from '../../src/emulator/index.js';
import { sample } from '../helpers/prometheus.js';
import { uniqueId } from '../helpers/temporal.js';
import { WorkerProcesses, workerEnv } from '../helpers/worker-process.js';

const API_KEY = 'metrics-api-key-0001';

describe('a worker’s metrics and logs', () => {
  let emulator: HumeEmulator;
  let workers: WorkerProcesses;
  let connection: Connection;
  let metricsUrl: string;
  const taskQueue = uniqueId('metrics');

  beforeAll(async () => {
    emulator = await startHumeEmulator({ apiKey: API_KEY, timing: { queuedMs: 10, processingMs: 30 } });
    // A lost submit answer (the retry adopts the job) and a FAILED job (resubmitted).
    emulator.failNext({ count: 1, route: 'submit', reset: true, afterHandling: true });
    emulator.failNextJobs(1, 'injected failure');
    const metricsPort = await freePort();
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    workers = new WorkerProcesses(
      await workerEnv({ temporalAddress: inject('temporalAddress'), taskQueue, humeUrl: emulator.url, apiKey: API_KEY, webhookSecret: 'metrics-webhook-secret-0001', extra: { TEMPORAL_HUME_METRICS_ADDRESS: `127.0.0.1:${metricsPort}` } }),
    );
    await workers.start();
    connection = await Connection.connect({ address: inject('temporalAddress') });
  });
  afterAll(async () => {
    await workers?.stop();
    await connection?.close();
    await emulator?.close();
  });

  it('serves the SDK’s and our counters on its Prometheus endpoint, and logs with workflow and activity ids', async () => {
    const client = new Client({ connection });
    const items = Array.from({ length: 6 }, (_, i) => ({ text: `Counted sentence ${i}.` }));
    const run = await startRun(client, { runId: uniqueId('metrics-run'), outDir: join(mkdtempSync(join(tmpdir(), 'metrics-')), 'out'), items, config: { models: { language: {} } }, limits: { maxTextsPerJob: 2 }, polling: { firstPollAfter: '2 seconds' }, resubmitDelay: '1 second' }, { taskQueue });
    const result = await run.result();
    expect(result.summary.items).toMatchObject({ completed: 6, failed: 0 });

    const text = await (await fetch(metricsUrl)).text();
    expect(sample(text, 'hume_requests', { call: 'startJob', status: '200' })).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'hume_requests', { call: 'downloadPredictions', status: '200' })).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'hume_bytes_sent', { call: 'startJob' })).toBeGreaterThan(0);
    expect(sample(text, 'hume_bytes_received', { call: 'downloadPredictions' })).toBeGreaterThan(0);
    expect(sample(text, 'hume_job_adoptions')).toBe(1);
    expect(sample(text, 'hume_job_resubmissions')).toBe(1);
    expect(sample(text, 'hume_callbacks', { outcome: 'accepted' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'hume_job_latency_count', { status: 'COMPLETED' })).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'hume_request_latency_count', { call: 'getJob' })).toBeGreaterThan(0);
    // The SDK's own, on the same endpoint.
    expect(text).toMatch(/^temporal_workflow_completed/m);

    const lines = workers.log.split('\n');
    const submitted = lines.find((line) => line.includes('submitted a Hume job'));
    expect(submitted).toMatch(/workflowId/);
    expect(submitted).toMatch(new RegExp(`${run.workflow.workflowId}/batch-`));
    const adopted = lines.find((line) => line.includes('adopted the Hume job an earlier try created') && line.includes('activityId'));
    expect(adopted).toBeDefined();
  });
});
