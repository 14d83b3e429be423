/** `redrive` through the real bin: after an injected failure it fills the gaps, and nothing else runs. */
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { getRun, startRun } from '../../src/client.js';
import { cleanEnv, expectOneLine } from '../cli/helpers.js';
import { type Stack, startStack } from '../helpers/hume-stack.js';
import { runCli } from '../helpers/spawn.js';
import { uniqueId } from '../helpers/temporal.js';

describe('temporal-hume redrive', () => {
  let stack: Stack;
  let env: NodeJS.ProcessEnv;
  const dir = mkdtempSync(join(tmpdir(), 'cli-redrive-'));

  beforeAll(async () => {
    stack = await startStack();
    env = cleanEnv({ TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: stack.temporal.taskQueue });
  });
  afterAll(() => stack.close());

  it('re-runs only the failed items of a finished run and rewrites its folder', async () => {
    const runId = uniqueId('cli-redrive');
    const items = Array.from({ length: 12 }, (_, i) => ({ id: `t${i}`, text: `text number ${i}` }));
    stack.emulator.failNextJobs(1, 'injected');
    const run = await startRun(
      stack.temporal.client,
      { runId, outDir: join(dir, 'out'), items, config: { models: { language: {} } }, maxJobsInFlight: 1, maxJobAttempts: 1, limits: { maxTextsPerJob: 4 } },
      { taskQueue: stack.temporal.taskQueue },
    );
    expect((await run.result()).summary.items).toMatchObject({ completed: 8, failed: 4 });

    const jobsBefore = stack.emulator.stats().jobsCreated;
    const redrive = await runCli(['redrive', runId, '--json', '--max-jobs-in-flight', '2'], env);
    expect(redrive.code, redrive.stderr).toBe(0);
    const result = JSON.parse(redrive.stdout) as { state: string; summary: { items: Record<string, number> } };
    expect(result).toMatchObject({ state: 'completed', summary: { items: { completed: 12, failed: 0 } } });
    expect(stack.emulator.stats().jobsCreated - jobsBefore).toBe(1);
    // The window asked for, set on the redrive (not on the finished run it re-runs).
    expect((await getRun(stack.temporal.client, `hume-run-${runId}-redrive`).progress()).maxJobsInFlight).toBe(2);
    const index = (await readFile(join(dir, 'out', runId, 'index.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(index.map((row) => row.status)).toEqual(Array(12).fill('completed'));
    // `status` of the run shows it as its folder now describes it, not as the first run ended.
    const status = await runCli(['status', runId], env);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^items +12 completed, 0 failed, 0 invalid, 0 not run$/m);
  });

  it('refuses an unknown run id in one line', async () => {
    expectOneLine(await runCli(['redrive', 'no-such-run'], env), 2, /no-such-run/);
  });
});
