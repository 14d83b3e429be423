/**
 * A run id names one run: once a run has finished, Temporal lets a new run start under the same
 * workflow id (`hume-run-<runId>`), and the folder's owner record refuses it before it touches
 * the folder. The run itself planning again (a reset) and a redrive of it are not refused.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redriveRun, runWorkflowId, startRun } from '../../src/client.js';
import { progressQuery } from '../../src/workflows/definitions.js';
import type { HumeBatchInput } from '../../src/schemas/batch.js';
import { rootFailure } from '../../src/cli/errors.js';
import { type Stack, startStack } from '../helpers/hume-stack.js';
import { uniqueId } from '../helpers/temporal.js';
import { hashTree } from '../results/helpers.js';

const config = { models: { language: {} } };

describe('a run id used again', () => {
  let stack: Stack;
  let outDir: string;

  beforeAll(async () => {
    stack = await startStack({ emulator: { timing: { queuedMs: [10, 30], processingMs: [20, 60] } } });
    outDir = join(mkdtempSync(join(tmpdir(), 'run-id-reuse-')), 'out');
  });
  afterAll(async () => {
    await stack.close();
  });

  const start = (runId: string, input: Omit<HumeBatchInput, 'outDir' | 'runId'>) =>
    startRun(stack.temporal.client, { outDir, runId, config, ...input }, { taskQueue: stack.temporal.taskQueue });

  it('refuses a new run with a finished run’s id, leaving its folder byte-identical; the finished run can still be redriven', async () => {
    const runId = uniqueId('reused');
    const items = Array.from({ length: 30 }, (_, i) => ({ id: `r${i}`, text: `first run text ${i}` }));
    stack.emulator.failNextJobs(1, 'injected failure');
    const first = await start(runId, { items, maxJobsInFlight: 1, maxJobAttempts: 1, limits: { maxTextsPerJob: 10 } });
    const done = await first.result();
    expect(done.summary.items).toMatchObject({ completed: 20, failed: 10 });
    const firstRun = (await first.workflow.describe()).runId;
    const owner = JSON.parse(await readFile(join(done.runDir, 'owner.json'), 'utf8'));
    expect(owner).toMatchObject({ workflowId: runWorkflowId(runId), firstExecutionRunId: firstRun });
    const before = await hashTree(done.runDir);
    const [index, summary] = await Promise.all(['index.jsonl', 'summary.json'].map((name) => readFile(join(done.runDir, name))));

    // Same run id, so the same workflow id: Temporal's default id reuse policy starts it anyway.
    const jobsBefore = stack.emulator.stats().jobsCreated;
    const second = await start(runId, { items: [{ id: 'other', text: 'a different run' }] });
    expect(second.workflow.workflowId).toBe(first.workflow.workflowId);
    const err = await second.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const failure = rootFailure(err as Error);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'RUN_ID_TAKEN', nonRetryable: true });
    expect(failure.message).toContain(`the run folder ${done.runDir} belongs to an earlier run of workflow ${runWorkflowId(runId)}`);
    expect(failure.message).toContain(`(first run ${firstRun},`);
    expect(failure.message).toContain(`not to this one (first run ${(await second.workflow.describe()).runId})`);
    expect(stack.emulator.stats().jobsCreated).toBe(jobsBefore);
    expect(await readFile(join(done.runDir, 'index.jsonl'))).toEqual(index);
    expect(await readFile(join(done.runDir, 'summary.json'))).toEqual(summary);
    expect(await hashTree(done.runDir)).toEqual(before);

    // A redrive has its own workflow id and is not refused; it leaves the owner record alone.
    const redrive = await redriveRun(stack.temporal.client, runId, { taskQueue: stack.temporal.taskQueue });
    const redriven = await redrive.result();
    expect(redriven.runDir).toBe(done.runDir);
    expect(redriven.summary.items).toMatchObject({ completed: 30, failed: 0 });
    expect(JSON.parse(await readFile(join(done.runDir, 'owner.json'), 'utf8'))).toEqual(owner);
  });

  it('lets a run reset to its first workflow task plan its own folder again', async () => {
    const runId = uniqueId('reset');
    const run = await start(runId, { items: [{ id: 'a', text: 'alpha' }, { id: 'b', text: 'beta' }] });
    const done = await run.result();
    const firstRun = (await run.workflow.describe()).runId;
    const owner = await readFile(join(done.runDir, 'owner.json'), 'utf8');

    const history = await run.workflow.fetchHistory();
    const firstTask = history.events?.find((event) => event.workflowTaskCompletedEventAttributes);
    const { client } = stack.temporal;
    const reset = await client.workflowService.resetWorkflowExecution({
      namespace: client.options.namespace,
      workflowExecution: { workflowId: run.workflow.workflowId, runId: firstRun },
      workflowTaskFinishEventId: firstTask?.eventId,
      requestId: randomUUID(),
      reason: 'test: re-plan after a reset',
    });
    // Past planning is what counts here: a refused planning fails the run at once.
    const again = client.workflow.getHandle(run.workflow.workflowId, reset.runId ?? undefined);
    const stateOf = async () => {
      const { status } = await again.describe();
      return status.name === 'RUNNING' ? (await again.query(progressQuery)).state : status.name;
    };
    try {
      await expect.poll(stateOf).toMatch(/^(running|finalizing|completed|COMPLETED)$/);
      expect((await again.query(progressQuery)).jobs.planned).toBe(1);
      // What the planning asked the server: a reset run's chain starts at the run it reset.
      expect((await again.describe()).raw.workflowExecutionInfo?.firstRunId).toBe(firstRun);
      expect(await readFile(join(done.runDir, 'owner.json'), 'utf8')).toBe(owner);
    } finally {
      await again.terminate('test done').catch(() => undefined);
      await client.workflow.getHandle(`${run.workflow.workflowId}/batch-0`).terminate('test done').catch(() => undefined);
    }
  });
});
