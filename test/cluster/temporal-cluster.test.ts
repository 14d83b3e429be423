import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { resolveTemporalServer, startTemporalCluster } from '../../src/devserver/index.js';
import { HUME_JOB_IDS, HUME_RUN_ID, SEARCH_ATTRIBUTES } from '../../src/workflows/definitions.js';
import { isAlive } from '../helpers/spawn.js';
import { installQuietRuntime, uniqueId } from '../helpers/temporal.js';
import { collectSteps, recordedQuery, stepSignal, type StepActivities } from './fixtures/steps.js';

const { IndexedValueType } = temporal.api.enums.v1;
// After a restart the worker's pollers and the client reconnect with backoff: give them more than the default.
const AFTER_RESTART = { timeout: 60_000, interval: 250 };

describe('startTemporalCluster', () => {
  it('keeps a workflow, its namespace and search attributes across a PostgreSQL restart and a Temporal server restart', async () => {
    installQuietRuntime();
    const cluster = await startTemporalCluster({ searchAttributes: SEARCH_ATTRIBUTES });
    const pids = { postgres: [cluster.postgres.pid!], temporal: [cluster.pid!] };
    const dir = dirname(dirname(cluster.logFile));
    const connection = await Connection.connect({ address: cluster.address });
    const nativeConnection = await NativeConnection.connect({ address: cluster.address });
    try {
      const client = new Client({ connection, namespace: cluster.namespace });
      const taskQueue = uniqueId('cluster');
      const activities: StepActivities = { record: async (value) => `recorded ${value}` };
      const worker = await Worker.create({
        connection: nativeConnection,
        namespace: cluster.namespace,
        taskQueue,
        workflowsPath: fileURLToPath(new URL('./fixtures/steps.ts', import.meta.url)),
        activities,
        // No cache: every task replays the history the server reads from PostgreSQL, so kept state is the server's.
        maxCachedWorkflows: 0,
      });
      const runId = uniqueId('run');
      const result = await worker.runUntil(async () => {
        const handle = await client.workflow.start(collectSteps, {
          args: [3],
          taskQueue,
          workflowId: uniqueId('steps'),
          typedSearchAttributes: [
            { key: HUME_RUN_ID, value: runId },
            { key: HUME_JOB_IDS, value: ['job-a', 'job-b'] },
          ],
        });
        const recorded = () => handle.query(recordedQuery);
        await handle.signal(stepSignal, { value: 'one' });
        await expect.poll(recorded).toEqual(['recorded one']);

        await cluster.restartPostgres();
        pids.postgres.push(cluster.postgres.pid!);
        await handle.signal(stepSignal, { value: 'two' });
        await expect.poll(recorded, AFTER_RESTART).toEqual(['recorded one', 'recorded two']);

        await cluster.restartTemporal();
        pids.temporal.push(cluster.pid!);
        await handle.signal(stepSignal, { value: 'three' });
        return handle.result();
      });
      expect(result).toEqual(['recorded one', 'recorded two', 'recorded three']);
      // Each restart is a new process; the one before it is gone.
      expect(new Set(pids.postgres).size).toBe(2);
      expect(new Set(pids.temporal).size).toBe(2);
      // pg_ctl returns once the postmaster removed its pid file, a moment before the process is gone.
      await expect.poll(() => [pids.postgres[0], pids.temporal[0]].map((pid) => isAlive(pid!))).toEqual([false, false]);

      const namespace = await connection.workflowService.describeNamespace({ namespace: cluster.namespace });
      expect(Number(namespace.config?.workflowExecutionRetentionTtl?.seconds)).toBe(24 * 60 * 60);
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: cluster.namespace });
      expect(customAttributes).toMatchObject({
        HumeRunId: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
        HumeJobIds: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
        HumeRunState: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
      });
      // Visibility is PostgreSQL too: the workflow is found by its search attributes, closed.
      const found = async () => {
        const statuses: string[] = [];
        for await (const execution of client.workflow.list({ query: `HumeRunId = '${runId}' AND HumeJobIds = 'job-b'` })) {
          statuses.push(execution.status.name);
        }
        return statuses;
      };
      await expect.poll(found).toEqual(['COMPLETED']);
    } finally {
      await connection.close();
      await nativeConnection.close();
      await cluster.stop();
    }
    await expect.poll(() => [...pids.postgres, ...pids.temporal].filter((pid) => isAlive(pid))).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });

  it('fails a start whose server exits, quoting its log, and stops PostgreSQL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cluster-failure-'));
    try {
      // The real PostgreSQL and schema tool; in place of the server, one that refuses its config.
      const server = join(dir, 'refusing-server');
      writeFileSync(server, '#!/bin/sh\necho "Unable to load configuration: refused by the test."\nexit 1\n');
      chmodSync(server, 0o755);
      const binaries = { ...(await resolveTemporalServer()), server };
      await expect(startTemporalCluster({ dir, binaries })).rejects.toThrow(
        /^the Temporal server on 127\.0\.0\.1:\d+: the server process exited\nUnable to load configuration: refused by the test\.$/,
      );
      expect(existsSync(join(dir, 'postgres', 'data', 'postmaster.pid'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
