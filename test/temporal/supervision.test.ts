/**
 * Supervision of every job, on the real dev server with the Hume-compatible server: what an
 * operator does to a run's jobs from the Temporal CLI, account-level failures, deadlines, bad input,
 * resets, and runs that cannot go on. Every run ends with its folder.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redriveRun, startRun } from '../../src/client.js';
import { resolveTemporalCli } from '../../src/devserver/index.js';
import type { HumeBatchInput } from '../../src/schemas/batch.js';
import { humeJob, type HumeJobInput, jobFinishedSignal, statusQuery } from '../../src/workflows/index.js';
import { type Stack, startStack, type WorkerActivities } from '../helpers/hume-stack.js';
import { cleanEnv } from '../cli/helpers.js';
import { runCli } from '../helpers/spawn.js';
import { uniqueId } from '../helpers/temporal.js';

const config = { models: { language: { sentiment: {} } } };
const texts = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({ id: `${tag}${i}`, text: `${tag} text ${i}` }));
const quiet = { polling: { firstPollAfter: '1 hour' } };

async function readJsonl(path: string): Promise<Array<Record<string, unknown>>> {
  return (await readFile(path, 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

describe('supervision', () => {
  let stack: Stack;
  let dir: string;
  let cli: string;
  const temporal = (...args: string[]) =>
    promisify(execFile)(cli, [...args, '--address', stack.temporal.address], { timeout: 60_000 });

  beforeAll(async () => {
    stack = await startStack({ emulator: { timing: { queuedMs: [10, 30], processingMs: [20, 60] } } });
    dir = mkdtempSync(join(tmpdir(), 'supervision-'));
    cli = await resolveTemporalCli();
  });
  afterAll(() => stack.close());

  const start = (input: Omit<HumeBatchInput, 'outDir'>, runId = uniqueId('sup')) =>
    startRun(stack.temporal.client, { outDir: join(dir, 'out'), runId, config, ...input }, { taskQueue: stack.temporal.taskQueue });
  const job = (input: Omit<HumeJobInput, 'resultDir'>, workflowId = uniqueId('sup-job')) =>
    stack.temporal.client.workflow.start(humeJob, {
      taskQueue: stack.temporal.taskQueue,
      workflowId,
      args: [{ resultDir: stack.resultDir(), config, ...input }],
    });
  const child = (run: { workflow: WorkflowHandle }, batch: number) => stack.temporal.client.workflow.getHandle(`${run.workflow.workflowId}/batch-${batch}`);
  const waiting = async (handle: WorkflowHandle) => {
    await expect.poll(async () => (await handle.query(statusQuery)).phase).toBe('waiting');
    return (await handle.query(statusQuery)).jobId!;
  };
  /** Acts as the webhook receiver would: a hint that makes the job look at Hume now. */
  const hint = async (handle: WorkflowHandle, jobId: string) => handle.signal(jobFinishedSignal, { jobId, status: 'COMPLETED' });
  /** Hints every job until `done` settles: after a reset a job may be waiting again, or done already. */
  async function hintUntil<T>(done: Promise<T>, jobs: Array<[WorkflowHandle, string]>): Promise<T> {
    let settled = false;
    void done.finally(() => (settled = true)).catch(() => undefined);
    while (!settled) {
      await Promise.all(jobs.map(([handle, jobId]) => hint(handle, jobId).catch(() => undefined)));
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    return done;
  }

  describe('humeJob', () => {
    it('fails at once with INVALID_INPUT naming the field when started with bad input', async () => {
      const before = stack.emulator.stats().requests.submit;
      const failure = await failureOf((await job({ texts: ['x'], polling: { firstPollAfter: 'soon' } })).result());
      expect(failure.type).toBe('INVALID_INPUT');
      expect(failure.message).toMatch(/invalid humeJob input: polling\.firstPollAfter: a duration/);
      expect(stack.emulator.stats().requests.submit).toBe(before);
    });

    it('does not resubmit a job Hume failed for the account (usage limit): one job, HUME_ACCOUNT_BLOCKED', async () => {
      const before = stack.emulator.stats().jobsCreated;
      stack.emulator.failNextJobs(1, "user 'u' has exceeded their usage limit");
      const failure = await failureOf((await job({ texts: ['over quota'], maxJobAttempts: 3, resubmitDelay: 100 })).result());
      expect(failure.type).toBe('HUME_ACCOUNT_BLOCKED');
      expect(failure.message).toMatch(/usage limit/);
      expect(stack.emulator.stats().jobsCreated - before).toBe(1);
    });

    it('counts a job that never finishes as FAILED after maxJobDuration, resubmits it, then gives up', async () => {
      const slow = await startStack({ callbacks: false, emulator: { timing: { queuedMs: 10, processingMs: 600_000 } } });
      try {
        const handle = await slow.temporal.client.workflow.start(humeJob, {
          taskQueue: slow.temporal.taskQueue,
          workflowId: uniqueId('deadline'),
          args: [{ texts: ['forever'], config, resultDir: slow.resultDir(), maxJobDuration: '2 seconds', maxJobAttempts: 2, resubmitDelay: 100, polling: { firstPollAfter: 300 } }],
        });
        const failure = await failureOf(handle.result());
        expect(failure.type).toBe('HUME_JOB_FAILED');
        expect(failure.message).toMatch(/gave up after 2 .*still IN_PROGRESS after maxJobDuration \(2 seconds\)/);
        expect(slow.emulator.stats().jobsCreated).toBe(2);
      } finally {
        await slow.close();
      }
    });

    it.each(['FirstWorkflowTask', 'LastWorkflowTask'])('reset to its %s while waiting, completes with no second Hume job', async (type) => {
      const before = stack.emulator.stats().jobsCreated;
      stack.emulator.setFaults({ callbackDropRate: 1 });
      try {
        const handle = await job({ texts: ['reset me'], ...quiet });
        const jobId = await waiting(handle);
        await temporal('workflow', 'reset', '--workflow-id', handle.workflowId, '--type', type, '--reason', 'test reset');
        const reset = stack.temporal.client.workflow.getHandle(handle.workflowId);
        await expect.poll(async () => (await reset.describe()).runId).not.toBe(handle.firstExecutionRunId);
        const result = await hintUntil(reset.result(), [[reset, jobId]]);
        expect(result).toMatchObject({ status: 'COMPLETED', jobId, jobIds: [jobId] });
        expect(stack.emulator.stats().jobsCreated - before).toBe(1);
      } finally {
        stack.emulator.setFaults({ callbackDropRate: 0 });
      }
    });
  });

  describe('humeBatch', () => {
    it('goes on when an operator terminates, cancels and resets its jobs, names why in the folder, and a redrive completes them', async () => {
      stack.emulator.setFaults({ callbackDropRate: 1 });
      const items = texts(40, 'op');
      const jobsBefore = stack.emulator.stats().jobsCreated;
      let run;
      let jobIds: string[];
      try {
        run = await start({ items, maxJobsInFlight: 4, limits: { maxTextsPerJob: 10 }, ...quiet });
        jobIds = await Promise.all([0, 1, 2, 3].map((b) => waiting(child(run!, b))));
        await temporal('workflow', 'terminate', '--workflow-id', child(run, 0).workflowId, '--reason', 'operator test');
        await temporal('workflow', 'cancel', '--workflow-id', child(run, 1).workflowId);
        const { runId: beforeReset } = await child(run, 2).describe();
        await temporal('workflow', 'reset', '--workflow-id', child(run, 2).workflowId, '--type', 'FirstWorkflowTask', '--reason', 'operator test');
        await expect.poll(async () => (await child(run!, 2).describe()).runId).not.toBe(beforeReset);
      } finally {
        stack.emulator.setFaults({ callbackDropRate: 0 });
      }
      const result = await hintUntil(run.result(), [[child(run, 2), jobIds[2]!], [child(run, 3), jobIds[3]!]]);
      expect(result.summary.items).toMatchObject({ completed: 20, failed: 20 });
      // The run's own count agrees with its folder: the terminated batch's items are counted failed too.
      expect((await run.progress()).items).toMatchObject({ completed: 20, failed: 20 });
      // The reset job adopted its Hume job: one job per batch, no second one.
      expect(stack.emulator.stats().jobsCreated - jobsBefore).toBe(4);
      const index = await readJsonl(join(result.runDir, 'index.jsonl'));
      const errorOf = (batch: number) => new Set(index.filter((row) => row.batch === batch).map((row) => `${row.status}: ${row.error ?? ''}`));
      expect([...errorOf(0)]).toEqual(['failed: terminated by operator']);
      expect([...errorOf(1)][0]).toMatch(/^failed: cancelled; Hume job\(s\) .* left at Hume$/);
      expect([...errorOf(2)]).toEqual(['completed: ']);
      expect([...errorOf(3)]).toEqual(['completed: ']);

      const redrive = await redriveRun(stack.temporal.client, result.runId, { taskQueue: stack.temporal.taskQueue });
      expect((await redrive.result()).summary.items).toMatchObject({ completed: 40, failed: 0 });
    });

    it('fails at once with INVALID_INPUT naming the field when started directly with bad input', async () => {
      const handle = await stack.temporal.client.workflow.start('humeBatch', {
        taskQueue: stack.temporal.taskQueue,
        workflowId: uniqueId('bad-batch'),
        args: [{ outDir: join(dir, 'out'), items: [{ text: 'x' }], maxJobsInFlight: 0 }],
      });
      const failure = await failureOf(handle.result());
      expect(failure.type).toBe('INVALID_INPUT');
      expect(failure.message).toMatch(/invalid humeBatch input: maxJobsInFlight: /);
    });

    // To its last task the run keeps hearing from its jobs; to its first it starts them again (or
    // finds them running), and each finds its Hume job in the submission journal.
    it.each(['LastWorkflowTask', 'FirstWorkflowTask'])('reset to its %s, completes with one Hume job per batch', async (type) => {
      stack.emulator.setFaults({ callbackDropRate: 1 });
      const jobsBefore = stack.emulator.stats().jobsCreated;
      let run;
      let jobIds: string[];
      try {
        run = await start({ items: texts(20, 'reset'), maxJobsInFlight: 4, limits: { maxTextsPerJob: 5 }, ...quiet });
        jobIds = await Promise.all([0, 1, 2, 3].map((b) => waiting(child(run!, b))));
        const { runId } = await run.workflow.describe();
        await temporal('workflow', 'reset', '--workflow-id', run.workflow.workflowId, '--type', type, '--reason', 'run reset test');
        await expect.poll(async () => (await stack.temporal.client.workflow.getHandle(run!.workflow.workflowId).describe()).runId).not.toBe(runId);
      } finally {
        stack.emulator.setFaults({ callbackDropRate: 0 });
      }
      const reset = stack.temporal.client.workflow.getHandle(run.workflow.workflowId);
      const result = await hintUntil(reset.result(), jobIds.map((jobId, b): [WorkflowHandle, string] => [child(run, b), jobId]));
      expect(result.summary.items).toMatchObject({ completed: 20, failed: 0 });
      expect(stack.emulator.stats().jobsCreated - jobsBefore).toBe(4);
    });

    it('pauses itself when Hume rejects the key, says why, and resumes to completion once the key is fixed', async () => {
      await stack.restartWorker({ apiKey: 'a-revoked-key' });
      try {
        const run = await start({ items: texts(60, 'key'), maxJobsInFlight: 2, limits: { maxTextsPerJob: 5 } });
        await expect.poll(async () => (await run.progress()).state).toBe('paused');
        const paused = await run.progress();
        expect(paused.pausedBy?.reason).toMatch(/401 Unauthorized/);
        // Within the window: no batch beyond the ones already in flight was tried.
        expect(paused.jobs.pending).toBe(12);
        expect(paused.items).toMatchObject({ completed: 0, failed: 0 });
        const details = await run.workflow.query('__temporal_workflow_metadata');
        expect(JSON.stringify(details)).toMatch(/Paused by itself.*401 Unauthorized/);
        // What a person sees with the CLI: the cause and what to do.
        const env = cleanEnv({ TEMPORAL_ADDRESS: stack.temporal.address, TEMPORAL_TASK_QUEUE: stack.temporal.taskQueue });
        const status = await runCli(['status', paused.runId], env);
        expect(status.code, status.stderr).toBe(0);
        expect(status.stdout).toMatch(new RegExp(`^paused by itself +Hume startJob: 401 Unauthorized.*\\(batch \\d+\\); fix the cause, then: temporal-hume resume ${paused.runId}$`, 'm'));
        await stack.restartWorker();
        await run.resume();
        const result = await run.result();
        expect(result.summary.items).toMatchObject({ completed: 60, failed: 0 });
        expect(await run.progress()).toMatchObject({ humeJobsCreated: 12, resubmissions: 0 });
      } finally {
        await stack.restartWorker();
      }
    });

    it('pauses itself when Hume fails a job for the usage limit, and the batch runs again on resume', async () => {
      stack.emulator.failNextJobs(1, "user 'u' has exceeded their usage limit");
      const run = await start({ items: texts(30, 'credit'), maxJobsInFlight: 1, limits: { maxTextsPerJob: 10 }, searchAttributes: true });
      await expect.poll(async () => (await run.progress()).state).toBe('paused');
      expect((await run.progress()).pausedBy).toMatchObject({ batch: 0, reason: expect.stringMatching(/usage limit/) });
      // Findable in the Temporal UI as a paused run.
      const paused = async () => {
        const ids: string[] = [];
        for await (const e of stack.temporal.client.workflow.list({ query: `HumeRunState = "paused" AND WorkflowId = "${run.workflow.workflowId}"` })) ids.push(e.workflowId);
        return ids;
      };
      await expect.poll(paused).toEqual([run.workflow.workflowId]);
      await run.resume();
      const result = await run.result();
      expect(result.summary.items).toMatchObject({ completed: 30, failed: 0 });
      expect(await run.progress()).toMatchObject({ humeJobsCreated: 4, jobs: { completed: 3, failed: 0 } });
    });

    it('pauses itself after a number of batches failed in a row', async () => {
      stack.emulator.failNextJobs(3, 'decoder crashed');
      const run = await start({ items: texts(50, 'row'), maxJobsInFlight: 1, maxJobAttempts: 1, pauseAfterFailedBatches: 3, limits: { maxTextsPerJob: 10 } });
      await expect.poll(async () => (await run.progress()).state).toBe('paused');
      expect((await run.progress()).pausedBy?.reason).toMatch(/^3 batches failed in a row; last: .*decoder crashed/);
      await run.resume();
      expect((await run.result()).summary.items).toMatchObject({ completed: 20, failed: 30 });
    });

    it('cancel with abandon ends a run stuck draining, writes its folder and records the Hume jobs it left', async () => {
      stack.emulator.setFaults({ callbackDropRate: 1 });
      try {
        const run = await start({ items: texts(20, 'stuck'), maxJobsInFlight: 2, limits: { maxTextsPerJob: 5 }, ...quiet });
        const jobIds = await Promise.all([0, 1].map((b) => waiting(child(run, b))));
        await run.cancel();
        await expect.poll(async () => (await run.progress()).state).toBe('draining');
        await run.cancel({ abandon: true });
        await expect(run.result()).rejects.toThrow();
        expect((await run.workflow.describe()).status.name).toBe('CANCELLED');
        const index = await readJsonl(join(dir, 'out', (await run.progress()).runId, 'index.jsonl'));
        const left = index.filter((row) => row.status === 'failed');
        expect(new Set(left.map((row) => row.job_id))).toEqual(new Set(jobIds));
        expect(index.filter((row) => row.status === 'not_run')).toHaveLength(10);
      } finally {
        stack.emulator.setFaults({ callbackDropRate: 0 });
      }
    });

    it('a second redrive creates its own Hume jobs, never adopting the first redrive’s', async () => {
      const runId = uniqueId('twice');
      stack.emulator.failNextJobs(1, 'decoder crashed');
      const first = await (await start({ items: texts(10, 'tw'), maxJobAttempts: 1, limits: { maxTextsPerJob: 5 }, maxJobsInFlight: 1 }, runId)).result();
      expect(first.summary.items).toMatchObject({ completed: 5, failed: 5 });
      const redrive = () => redriveRun(stack.temporal.client, runId, { taskQueue: stack.temporal.taskQueue });
      const created = () => stack.emulator.stats().jobsCreated;
      stack.emulator.failNextJobs(1, 'decoder crashed again');
      let before = created();
      expect((await failureOf((await redrive()).result())).message).toMatch(/every item failed/);
      expect(created() - before).toBe(1);
      before = created();
      const second = await (await redrive()).result();
      expect(created() - before).toBe(1);
      expect(second.summary.items).toMatchObject({ completed: 10, failed: 0 });
    });

    it('a run that cannot go on still writes its folder, fails naming why, and a redrive completes it', async () => {
      const runId = uniqueId('cannot');
      const squatter = await stack.temporal.client.workflow.start('waitForever', {
        taskQueue: stack.temporal.taskQueue,
        workflowId: `hume-run-${runId}/batch-1`,
      });
      let failure: ApplicationFailure;
      try {
        const run = await start({ items: texts(20, 'sq'), maxJobsInFlight: 1, limits: { maxTextsPerJob: 10 } }, runId);
        failure = await failureOf(run.result());
      } finally {
        await squatter.terminate();
      }
      expect(failure.type).toBe('RUN_FAILED');
      expect(failure.message).toMatch(/batch 1 cannot start.*what did not complete can be redriven; results in/);
      const runDir = join(dir, 'out', runId);
      const run = JSON.parse(await readFile(join(runDir, 'run.json'), 'utf8'));
      expect(run).toMatchObject({ state: 'failed', error: expect.stringMatching(/batch 1 cannot start/) });
      const index = await readJsonl(join(runDir, 'index.jsonl'));
      expect(index.filter((row) => row.status === 'completed')).toHaveLength(10);
      expect(index.filter((row) => row.status === 'not_run')).toHaveLength(10);
      const redrive = await redriveRun(stack.temporal.client, runId, { taskQueue: stack.temporal.taskQueue });
      expect((await redrive.result()).summary.items).toMatchObject({ completed: 20, failed: 0 });
    });

    it('tries finalize again when it fails, and the run still ends with its folder', async () => {
      let failures = 0;
      await stack.restartWorker({
        wrapActivities: (activities) => ({
          ...activities,
          humeFinalizeRun: async (...args: never[]) => {
            if (failures++ === 0) throw ApplicationFailure.nonRetryable('disk full (injected)', 'ENOSPC');
            return (activities.humeFinalizeRun as (...a: never[]) => Promise<unknown>)(...args);
          },
        }) as WorkerActivities,
      });
      try {
        const result = await (await start({ items: texts(5, 'fin') })).result();
        expect(failures).toBe(2);
        expect(result.summary.items.completed).toBe(5);
        expect(JSON.parse(await readFile(join(result.runDir, 'run.json'), 'utf8')).state).toBe('completed');
      } finally {
        await stack.restartWorker();
      }
    });
  });
});
