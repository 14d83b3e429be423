/**
 * Worker Versioning as an operator rolls out a workflow change: the run and its jobs are pinned
 * to the version that started them; making a new version current makes the long-lived run
 * continue as new onto it, while the old version drains the jobs it started.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRun } from '../../src/client.js';
import { startTemporalCluster, type TemporalCluster } from '../../src/devserver/index.js';
import { type HumeEmulator, startHumeEmulator } from '../../src/emulator/index.js';
import { HumeClient } from '../../src/hume/client.js';
import { createHumeWorker } from '../../src/worker.js';
import { eventsByTask } from '../helpers/history.js';
import { API_KEY } from '../helpers/hume-stack.js';
import { installQuietRuntime, testWorkflowBundle, uniqueId } from '../helpers/temporal.js';

const DEPLOYMENT = `hume-${randomUUID().slice(0, 8)}`;
const PINNED = temporal.api.enums.v1.VersioningBehavior.VERSIONING_BEHAVIOR_PINNED;

describe('Worker Versioning', () => {
  // The full server: the CLI's dev server (1.29) keeps a pinned run on its version across continue-as-new.
  let cluster: TemporalCluster;
  let connection: Connection;
  let nativeConnection: NativeConnection;
  let client: Client;
  const taskQueue = uniqueId('versioned');
  let emulator: HumeEmulator;
  const workers: { worker: Worker; running: Promise<void> }[] = [];

  beforeAll(async () => {
    installQuietRuntime();
    cluster = await startTemporalCluster();
    connection = await Connection.connect({ address: cluster.address });
    nativeConnection = await NativeConnection.connect({ address: cluster.address });
    client = new Client({ connection, namespace: cluster.namespace });
    emulator = await startHumeEmulator({ apiKey: API_KEY, timing: { queuedMs: 5, processingMs: [300, 500] } });
  });
  afterAll(async () => {
    try {
      for (const w of workers) {
        try {
          w.worker.shutdown();
        } catch {
          // Already stopped (it failed): its `running` says why.
        }
      }
      await Promise.allSettled(workers.map((w) => w.running));
      await emulator?.close();
      await nativeConnection?.close();
      await connection?.close();
    } finally {
      await cluster?.stop();
    }
  });

  async function startVersion(buildId: string): Promise<void> {
    const worker = await createHumeWorker({
      connection: nativeConnection,
      namespace: cluster.namespace,
      taskQueue,
      hume: new HumeClient({ apiKey: API_KEY, baseUrl: emulator.url, maxRequestsPerSecond: 200 }),
      deployment: { name: DEPLOYMENT, buildId },
      workerOptions: { workflowBundle: await testWorkflowBundle() },
    });
    workers.push({ worker, running: worker.run() });
  }

  /** What `temporal worker deployment set-current-version` does; the version exists once its worker polls. */
  async function makeCurrent(buildId: string): Promise<void> {
    await expect.poll(async () => {
      try {
        await client.workflowService.setWorkerDeploymentCurrentVersion({ namespace: cluster.namespace, deploymentName: DEPLOYMENT, buildId, identity: 'versioning-test' });
        return true;
      } catch (err) {
        return (err as Error).message;
      }
    }, { timeout: 30_000, interval: 250 }).toBe(true);
  }

  async function versionOf(workflowId: string, runId?: string) {
    const { raw } = await client.workflow.getHandle(workflowId, runId).describe();
    const info = raw.workflowExecutionInfo?.versioningInfo;
    return { buildId: info?.deploymentVersion?.buildId ?? undefined, behavior: info?.behavior };
  }

  it('keeps a run and its jobs on the version that started them, and moves the run at continue-as-new', async () => {
    await startVersion('v1');
    await makeCurrent('v1');
    const items = Array.from({ length: 16 }, (_, i) => ({ id: `v${i}`, text: `versioned text ${i}` }));
    const run = await startRun(
      client,
      { runId: uniqueId('versioned'), outDir: mkdtempSync(join(tmpdir(), 'versioning-')), items, config: { models: { language: {} } }, maxJobsInFlight: 2, limits: { maxTextsPerJob: 1 }, polling: { firstPollAfter: '200 milliseconds', maxInterval: '500 milliseconds' } },
      { taskQueue },
    );
    const { workflowId } = run.workflow;
    const firstRunId = (await run.workflow.describe()).runId;
    await expect.poll(async () => (await run.progress()).jobs.completed, { timeout: 60_000 }).toBeGreaterThanOrEqual(2);
    expect(await versionOf(workflowId, firstRunId)).toMatchObject({ buildId: 'v1' });

    // The rollout, with the run paused so it cannot finish first: v2 starts polling and is made
    // current; v1 keeps running for what it started. A paused run gets no task of its own: it
    // moves at its next one, here the resume.
    await run.pause();
    await startVersion('v2');
    await makeCurrent('v2');
    await run.resume();
    const result = await run.result();
    expect(result.summary.items).toMatchObject({ completed: 16, failed: 0 });

    const chain: { runId: string; buildId?: string; behavior?: unknown; startedAt: number }[] = [];
    for await (const e of client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) {
      chain.push({ runId: e.runId, startedAt: e.startTime.getTime(), ...(await versionOf(workflowId, e.runId)) });
    }
    chain.sort((a, b) => a.startedAt - b.startedAt);
    // Nothing else suggested continue-as-new here: the new current version did, and the run moved once.
    expect(chain.map((r) => r.runId)[0]).toBe(firstRunId);
    expect(chain.map((r) => [r.buildId, r.behavior])).toEqual([['v1', PINNED], ['v2', PINNED]]);
    // The resume was answered in a task of its own, not in the one that moved the run: a child's
    // end arriving meanwhile would have had the server refuse that task, and the resume with it.
    const firstRunTasks = eventsByTask(await client.workflow.getHandle(workflowId, firstRunId).fetchHistory());
    expect(firstRunTasks.at(-1)).toEqual(['WORKFLOW_EXECUTION_CONTINUED_AS_NEW']);

    // Every job ran on the version of the run that started it.
    const jobs: { buildId?: string; behavior?: unknown; startedAt: number }[] = [];
    for await (const e of client.workflow.list({ query: `WorkflowId STARTS_WITH "${workflowId}/batch-"` })) {
      jobs.push({ startedAt: e.startTime.getTime(), ...(await versionOf(e.workflowId, e.runId)) });
    }
    expect(jobs.length).toBe(16);
    const movedAt = chain[1]!.startedAt;
    for (const job of jobs) expect(job.buildId).toBe(job.startedAt < movedAt ? 'v1' : 'v2');
    expect(jobs.some((j) => j.buildId === 'v2')).toBe(true);

    // How an operator knows the old build may stop: nothing of it is running (CONTRIBUTING's query).
    const onV1 = async (extra = '') => {
      const ids: string[] = [];
      for await (const e of client.workflow.list({ query: `TemporalWorkerDeploymentVersion = '${DEPLOYMENT}:v1'${extra}` })) ids.push(e.workflowId);
      return ids.length;
    };
    await expect.poll(() => onV1(), { timeout: 20_000 }).toBe(1 + jobs.filter((j) => j.buildId === 'v1').length);
    expect(await onV1(" AND ExecutionStatus = 'Running'")).toBe(0);
  }, 180_000);
});
