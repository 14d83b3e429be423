/**
 * A run stuck because its worker cannot reach Hume explains itself through `status`: each batch in
 * flight with its phase and the failure its activity keeps retrying, and an elapsed time that runs
 * on the clock, not frozen at the run's last workflow task.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRun } from '../../src/client.js';
import { freePort } from '../../src/devserver/index.js';
import { statusQuery } from '../../src/workflows/index.js';
import { cleanEnv } from '../cli/helpers.js';
import { type Stack, startStack } from '../helpers/hume-stack.js';
import { runCli } from '../helpers/spawn.js';
import { uniqueId } from '../helpers/temporal.js';

describe('status of a run whose worker cannot reach Hume', () => {
  let stack: Stack;

  beforeAll(async () => {
    // Nothing listens on this port: every call to Hume is refused.
    const closed = `http://127.0.0.1:${await freePort()}`;
    stack = await startStack({ callbacks: false, through: async () => ({ url: closed, close: async () => {} }) });
  });
  afterAll(() => stack.close());

  it('names each stuck batch, its phase and the failure being retried, with a running clock', async () => {
    const runId = uniqueId('stuck');
    const run = await startRun(
      stack.temporal.client,
      { runId, outDir: mkdtempSync(join(tmpdir(), 'stuck-')), items: [{ text: 'nowhere to go' }], config: { models: { language: {} } } },
      { taskQueue: stack.temporal.taskQueue },
    );
    const batch = stack.temporal.client.workflow.getHandle(`${run.workflow.workflowId}/batch-0`);
    await expect.poll(async () => (await batch.query(statusQuery).catch(() => undefined))?.phase).toBe('submitting');
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const env = cleanEnv({ TEMPORAL_ADDRESS: stack.temporal.address, TEMPORAL_TASK_QUEUE: stack.temporal.taskQueue });
    await expect
      .poll(async () => (await runCli(['status', runId], env)).stdout, { timeout: 30_000, interval: 1_000 })
      .toMatch(/^batch 0 +submitting, attempt 1\/3, last error: .*ECONNREFUSED.* \(try \d+\)$/m);
    const status = await runCli(['status', runId], env);
    // Nothing was created yet: the count says what it counts.
    expect(status.stdout).toMatch(/^Hume jobs created +0 by finished batches \(0 resubmissions\), and 0 by batches in flight$/m);
    const elapsed = /^elapsed +(\d+)s$/m.exec(status.stdout)?.[1];
    expect(Number(elapsed)).toBeGreaterThanOrEqual(3);
    await run.cancel({ abandon: true });
  });
});
