/**
 * The owner record: the first planning claims `<runDir>/owner.json`; the same run plans again,
 * another run with the same run id is refused without a byte of the folder changing, and
 * redrives neither check nor change the record.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { Info } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import type { PlanManifestInput } from '../../src/activities/manifest.js';
import { createPlanRedrive, type RedrivePlan } from '../../src/activities/redrive.js';
import { writeBatchOutcome } from '../../src/results/outcome.js';
import type { PlanResult } from '../../src/schemas/batch.js';
import { finalize, hashTree } from '../results/helpers.js';
import { activities, failureOf, readJsonl, tempDir } from './helpers.js';
import { createFsStore } from '../../src/store/fs.js';
import { createStorage } from '../../src/store/storage.js';

const humePlanRedrive = createPlanRedrive(createStorage());

const items = [
  { id: 'a', text: 'alpha' },
  { id: 'b', text: 'beta' },
  { id: 'c', text: 'gamma' },
];
const A = { workflowId: 'hume-run-survey', firstExecutionRunId: 'first-run-a' };

/** Refusals are what these tests are about: no warning for each. */
const logger = new DefaultLogger('ERROR');

type Input = Omit<PlanManifestInput, 'config' | 'runDir'>;
const input = (runDir: string, extra: Input = { items }): PlanManifestInput => ({ runDir, config: {}, limits: { maxTextsPerJob: 2 }, ...extra });

/** Plans as an activity of workflow `workflowId`, run `runId`; `firstRunId`: what the server says. */
function planAs(execution: { workflowId: string; runId: string; firstRunId?: string }, planInput: PlanManifestInput): Promise<PlanResult> {
  const info: Partial<Info> = { workflowExecution: { workflowId: execution.workflowId, runId: execution.runId } };
  const client =
    execution.firstRunId === undefined
      ? undefined
      : ({
          options: { namespace: 'default' },
          withAbortSignal: <R>(_signal: AbortSignal, fn: () => Promise<R>) => fn(),
          workflowService: { describeWorkflowExecution: async () => ({ workflowExecutionInfo: { firstRunId: execution.firstRunId } }) },
        } as unknown as Client);
  return new MockActivityEnvironment(info, { client, logger }).run(activities.humePlanManifest, planInput) as Promise<PlanResult>;
}

const withOwner = (owner: typeof A, runDir: string) => planAs({ workflowId: owner.workflowId, runId: 'current-run' }, input(runDir, { items, owner }));
const readOwner = async (runDir: string) => JSON.parse(await readFile(join(runDir, 'owner.json'), 'utf8')) as Record<string, unknown>;

describe('humePlanManifest owner record', () => {
  it('writes owner.json with the workflow id, its first run id and when', async () => {
    const runDir = join(await tempDir(), 'survey');
    await withOwner(A, runDir);
    const owner = await readOwner(runDir);
    expect(owner).toEqual({ ...A, createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(Date.now() - Date.parse(owner.createdAt as string)).toBeLessThan(60_000);
  });

  it('lets the same run plan again (a retried or reset planning) and re-plans the same bytes, keeping its outcomes', async () => {
    const runDir = join(await tempDir(), 'survey');
    const first = await withOwner(A, runDir);
    await writeBatchOutcome(createFsStore(runDir), { batch: 0, jobId: 'job-0', status: 'COMPLETED', items: [] });
    const before = await hashTree(runDir);
    // A reset run has another run id, and the same first run id.
    const again = await planAs({ workflowId: A.workflowId, runId: 'after-reset' }, input(runDir, { items, owner: A }));
    expect(again).toEqual(first);
    expect(await hashTree(runDir)).toEqual(before);
  });

  it('refuses another workflow with one line naming the folder and the owner, leaving every byte as it was', async () => {
    const runDir = join(await tempDir(), 'survey');
    await withOwner(A, runDir);
    await writeBatchOutcome(createFsStore(runDir), { batch: 0, jobId: 'job-0', status: 'COMPLETED', items: [] });
    const before = await hashTree(runDir);
    const failure = await failureOf(withOwner({ workflowId: 'someone-else', firstExecutionRunId: 'x' }, runDir));
    expect(failure).toMatchObject({ type: 'RUN_ID_TAKEN', nonRetryable: true });
    expect(failure.message).not.toContain('\n');
    expect(failure.message).toContain(runDir);
    expect(failure.message).toMatch(/belongs to workflow hume-run-survey \(first run first-run-a, since \d{4}-.*\), not to someone-else/);
    expect(await hashTree(runDir)).toEqual(before);
  });

  it('refuses a new run under the same workflow id (a finished run started again with its run id)', async () => {
    const runDir = join(await tempDir(), 'survey');
    await withOwner(A, runDir);
    const before = await hashTree(runDir);
    const failure = await failureOf(withOwner({ ...A, firstExecutionRunId: 'first-run-b' }, runDir));
    expect(failure.type).toBe('RUN_ID_TAKEN');
    expect(failure.message).toMatch(/belongs to an earlier run of workflow hume-run-survey \(first run first-run-a, .*\), not to this one \(first run first-run-b\)/);
    expect(failure.message).toContain(runDir);
    expect(await hashTree(runDir)).toEqual(before);
  });

  it('lets the next run take the id of a run refused at planning, which left nothing to protect', async () => {
    const runDir = join(await tempDir(), 'survey');
    const refused = await failureOf(planAs({ ...A, runId: 'current-run' }, input(runDir, { manifest: { path: join(runDir, '..', 'missing.jsonl') }, owner: A })));
    expect(refused.type).toBe('INVALID_MANIFEST');
    const next = { ...A, firstExecutionRunId: 'first-run-b' };
    await withOwner(next, runDir);
    expect(await readOwner(runDir)).toMatchObject(next);
  });

  it('lets exactly one of two runs take over a refused folder at once', async () => {
    const runDir = join(await tempDir(), 'survey');
    await failureOf(planAs({ ...A, runId: 'current-run' }, input(runDir, { manifest: { path: join(runDir, '..', 'missing.jsonl') }, owner: A })));
    const B = { workflowId: 'hume-run-survey-b', firstExecutionRunId: 'first-run-b' };
    const C = { workflowId: 'hume-run-survey-c', firstExecutionRunId: 'first-run-c' };
    const results = await Promise.allSettled([withOwner(B, runDir), withOwner(C, runDir)]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(await readOwner(runDir)).toMatchObject(results[0]!.status === 'fulfilled' ? B : C);
  });

  it('holds the folder again for a refused run planning anew (reset after the manifest was fixed)', async () => {
    const runDir = join(await tempDir(), 'survey');
    await failureOf(planAs({ ...A, runId: 'current-run' }, input(runDir, { manifest: { path: join(runDir, '..', 'missing.jsonl') }, owner: A })));
    expect(await readOwner(runDir)).toHaveProperty('refusedAt');
    await withOwner(A, runDir);
    expect(await readOwner(runDir)).not.toHaveProperty('refusedAt');
    const failure = await failureOf(withOwner({ workflowId: 'someone-else', firstExecutionRunId: 'x' }, runDir));
    expect(failure.type).toBe('RUN_ID_TAKEN');
  });

  it('refuses a folder with a plan or results but no owner.json, saying what is there', async () => {
    const runDir = join(await tempDir(), 'legacy');
    await mkdir(join(runDir, 'jobs', '0-job'), { recursive: true });
    await writeFile(join(runDir, 'plan.json'), '{}\n');
    await writeFile(join(runDir, 'run.json'), '{}\n');
    const before = await hashTree(runDir);
    const failure = await failureOf(withOwner(A, runDir));
    expect(failure.type).toBe('RUN_ID_TAKEN');
    expect(failure.message).toBe(
      `the run folder ${runDir} already holds jobs/, plan.json, run.json but no owner.json (a run from before owner records, or not a run's folder): choose another run id, or redrive the run that is there`,
    );
    expect(await hashTree(runDir)).toEqual(before);
  });

  it('claims a missing folder, an empty one, and one a crashed claim left a temporary file in', async () => {
    const dir = await tempDir();
    await withOwner(A, join(dir, 'missing', 'deeper'));
    await mkdir(join(dir, 'empty'));
    await withOwner(A, join(dir, 'empty'));
    await mkdir(join(dir, 'crashed'));
    await writeFile(join(dir, 'crashed', 'owner.json.0b5c.tmp'), '{"work');
    await withOwner(A, join(dir, 'crashed'));
    for (const name of ['missing/deeper', 'empty', 'crashed']) expect(await readOwner(join(dir, name))).toMatchObject(A);
  });

  it('refuses an owner.json that is not an owner record', async () => {
    const runDir = join(await tempDir(), 'survey');
    await mkdir(runDir);
    await writeFile(join(runDir, 'owner.json'), '{"workflowId": 7}');
    const failure = await failureOf(withOwner(A, runDir));
    expect(failure.type).toBe('RUN_ID_TAKEN');
    expect(failure.message).toMatch(/holds an owner\.json that is not an owner record \(workflowId: /);
  });

  it('refuses a malformed owner as input, before touching the folder', async () => {
    const runDir = join(await tempDir(), 'survey');
    const failure = await failureOf(withOwner({ workflowId: '', firstExecutionRunId: 'x' }, runDir));
    expect(failure.type).toBe('INVALID_CONFIG');
    expect(failure.message).toMatch(/^owner\.workflowId: /);
    await expect(readFile(join(runDir, 'owner.json'))).rejects.toThrow(/ENOENT/);
  });

  it('lets exactly one of two runs planning the same new folder at once own it', async () => {
    const runDir = join(await tempDir(), 'survey');
    const B = { workflowId: 'hume-run-survey-b', firstExecutionRunId: 'first-run-b' };
    const results = await Promise.allSettled([withOwner(A, runDir), withOwner(B, runDir)]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const winner = results[0]!.status === 'fulfilled' ? A : B;
    expect(await readOwner(runDir)).toMatchObject(winner);
    expect(((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as { type: string }).type).toBe('RUN_ID_TAKEN');
  });

  describe('without an owner given (the workflow does not pass one yet)', () => {
    const run1 = { workflowId: A.workflowId, runId: 'run-1' };

    it('records the first run id the server gives for the activity’s workflow', async () => {
      const runDir = join(await tempDir(), 'survey');
      await planAs({ ...run1, firstRunId: 'run-1' }, input(runDir));
      expect(await readOwner(runDir)).toMatchObject({ workflowId: A.workflowId, firstExecutionRunId: 'run-1' });
      // The record is what the workflow will pass once it does.
      await expect(withOwner({ workflowId: A.workflowId, firstExecutionRunId: 'run-1' }, runDir)).resolves.toBeTruthy();
    });

    it('accepts a retried activity and a reset run of the same chain; refuses a new run under the same workflow id', async () => {
      const runDir = join(await tempDir(), 'survey');
      await planAs({ ...run1, firstRunId: 'run-1' }, input(runDir));
      await planAs({ ...run1, firstRunId: 'run-1' }, input(runDir));
      await planAs({ workflowId: A.workflowId, runId: 'run-after-reset', firstRunId: 'run-1' }, input(runDir));
      const failure = await failureOf(planAs({ workflowId: A.workflowId, runId: 'run-2', firstRunId: 'run-2' }, input(runDir)));
      expect(failure.type).toBe('RUN_ID_TAKEN');
      expect(failure.message).toMatch(/earlier run of workflow hume-run-survey \(first run run-1, .*\), not to this one \(first run run-2\)/);
    });

    it('without a server to ask, uses the run id: a retry passes, any other run is refused', async () => {
      const runDir = join(await tempDir(), 'survey');
      await planAs(run1, input(runDir));
      expect(await readOwner(runDir)).toMatchObject({ workflowId: A.workflowId, firstExecutionRunId: 'run-1' });
      await planAs(run1, input(runDir));
      expect((await failureOf(planAs({ ...run1, runId: 'run-2' }, input(runDir)))).type).toBe('RUN_ID_TAKEN');
    });

    it('outside any workflow, owns the folder for that one planning', async () => {
      const runDir = join(await tempDir(), 'dry-run');
      await activities.humePlanManifest(input(runDir));
      expect(await readOwner(runDir)).toMatchObject({ workflowId: null, firstExecutionRunId: expect.any(String) });
      const failure = await failureOf(activities.humePlanManifest(input(runDir)));
      expect(failure.message).toMatch(/belongs to a planning made outside any workflow/);
    });
  });
});

describe('humePlanRedrive and the owner record', () => {
  /** A finished run of A whose items all failed to run: every batch is redriven. */
  async function finishedRun(): Promise<string> {
    const runDir = join(await tempDir(), 'survey');
    const plan = await withOwner(A, runDir);
    await finalize({
      runDir,
      runId: 'survey',
      plan,
      validation: { config: {} },
      run: { input: { outDir: runDir, items: '3 inline items' }, startedAt: 1, finishedAt: 2, state: 'cancelled', humeJobsCreated: 0, resubmissions: 0 },
    });
    return runDir;
  }
  const redrive = (runDir: string): Promise<RedrivePlan> =>
    new MockActivityEnvironment({ workflowExecution: { workflowId: 'hume-run-survey-redrive', runId: 'r' } }, { logger }).run(humePlanRedrive, { runDir, name: 'redrive-r' }) as Promise<RedrivePlan>;

  it('redrives a run owned by another workflow, and leaves owner.json as it was', async () => {
    const runDir = await finishedRun();
    const owner = await readFile(join(runDir, 'owner.json'), 'utf8');
    const planned = await redrive(runDir);
    expect(planned.plan).toMatchObject({ items: 3, batches: 2 });
    expect(await readJsonl(planned.plan.planPath)).toHaveLength(2);
    expect(await readFile(join(runDir, 'owner.json'), 'utf8')).toBe(owner);
  });

  it('redrives a folder from before owner records', async () => {
    const runDir = await finishedRun();
    await rm(join(runDir, 'owner.json'));
    expect((await redrive(runDir)).plan).toMatchObject({ items: 3, batches: 2 });
  });

  it('refuses a folder whose run has not finished, or that holds no run', async () => {
    const runDir = join(await tempDir(), 'survey');
    await withOwner(A, runDir);
    expect((await failureOf(redrive(runDir))).message).toBe(`${runDir} holds no finished run to redrive (no run.json)`);
    const empty = await tempDir();
    expect(await failureOf(redrive(empty))).toMatchObject({
      type: 'NOTHING_TO_REDRIVE',
      message: `${empty} holds no finished run to redrive (no owner.json, plan.json, run.json)`,
    });
  });
});
