import { describe, expect, it } from 'vitest';
import { HumeBatchInput } from '../src/schemas/batch.js';
import { HumeJobInput } from '../src/schemas/humeJob.js';

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
});
