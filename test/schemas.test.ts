import { describe, expect, it } from 'vitest';
import { bundleWorkflowCode } from '@temporalio/worker';
import { HumeBatchEntry } from '../src/schemas/batch.js';
import { HumeJobEntry } from '../src/schemas/humeJob.js';
import { HumeBatchInput, HumeJobInput } from '../src/schemas/inputs.js';
import { workflowsPath } from '../src/worker.js';

describe('run and job input', () => {
  it('refuses a duration Temporal cannot read, naming the field, so no workflow task can choke on it', () => {
    const job = HumeJobInput.safeParse({ texts: ['x'], resultDir: '/tmp/r', polling: { firstPollAfter: 'soon' } });
    expect(job.success).toBe(false);
    expect(job.error?.issues[0]?.path).toEqual(['polling', 'firstPollAfter']);
    expect(HumeJobInput.safeParse({ texts: ['x'], resultDir: '/tmp/r', polling: { firstPollAfter: '3 minutes', maxInterval: 500 } }).success).toBe(true);
  });

  it('needs exactly one source of items, or a redrive of a named run', () => {
    const config = {};
    expect(HumeBatchInput.safeParse({ outDir: '/o', config }).success).toBe(false);
    expect(HumeBatchInput.safeParse({ outDir: '/o', manifest: { path: 'm.jsonl' }, items: [{ text: 'a' }] }).success).toBe(false);
    expect(HumeBatchInput.safeParse({ outDir: '/o', items: [{ text: 'a' }] }).success).toBe(true);
    expect(HumeBatchInput.safeParse({ outDir: '/o', redrive: true }).success).toBe(false);
    expect(HumeBatchInput.safeParse({ outDir: '/o', redrive: true, runId: 'r1' }).success).toBe(true);
  });

  it('is checked at a workflow\'s entry field by field, the model config only as an object: the activities that send it check it whole', () => {
    const bad = { texts: ['x'], resultDir: '/tmp/r', config: { models: { face: { prob_threshold: 7 } } } };
    expect(HumeJobEntry.safeParse(bad).success).toBe(true);
    expect(HumeJobInput.safeParse(bad).error?.issues[0]?.path).toEqual(['config', 'models', 'face', 'prob_threshold']);
    expect(HumeJobEntry.safeParse({ ...bad, config: 'face' }).error?.issues[0]?.path).toEqual(['config']);
    expect(HumeJobEntry.safeParse({ texts: ['x'], resultDir: '/tmp/r', polling: { firstPollAfter: 'soon' } }).error?.issues[0]?.path).toEqual(['polling', 'firstPollAfter']);
    expect(HumeBatchEntry.safeParse({ outDir: '/o', items: [{ text: 'a' }], maxJobsInFlight: 0 }).error?.issues[0]?.path).toEqual(['maxJobsInFlight']);
  });

  it('keeps Hume\'s schemas out of the workflow bundle, which builds its modules again for every execution', async () => {
    const { code } = await bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } });
    expect(code).toContain('./src/schemas/humeJob.ts');
    expect(code).not.toContain('./src/hume/schemas.ts');
  }, 60_000);
});
