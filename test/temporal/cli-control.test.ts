/**
 * `run --no-wait`, then `status`, `pause`, `resume`, `results`, `cancel` on the running run, through
 * the real bin. Hume keeps jobs queued for a minute, so the run is still running while we steer it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cleanEnv, expectOneLine } from '../cli/helpers.js';
import { type Stack, startStack } from '../helpers/hume-stack.js';
import { runCli } from '../helpers/spawn.js';
import { uniqueId } from '../helpers/temporal.js';

describe('temporal-hume status / pause / resume / cancel / results', () => {
  let stack: Stack;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    stack = await startStack({ emulator: { timing: { queuedMs: [60_000, 60_000], processingMs: [10, 10] } } });
    dir = mkdtempSync(join(tmpdir(), 'cli-control-'));
    env = cleanEnv({ TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: stack.temporal.taskQueue });
  });
  afterAll(() => stack.close());

  const cli = (...args: string[]) => runCli(args, env);

  it('steers a run started with --no-wait, then shows its cancelled folder', async () => {
    const manifest = join(dir, 'manifest.jsonl');
    writeFileSync(manifest, `${JSON.stringify({ id: 'a', text: 'Waiting in line.' })}\n`);
    const runId = uniqueId('steer');
    const workflowId = `hume-run-${runId}`;

    const started = await cli('run', manifest, '--models', 'language', '--out', join(dir, 'out'), '--run-id', runId, '--on-cancel', 'abandon', '--no-wait');
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toBe(`run       ${runId}\nworkflow  ${workflowId}\n`);

    const status = await cli('status', runId);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^workflow +${workflowId}\\nrun +${runId}\\nstate +(planning|running)$`, 'm'));

    const paused = await cli('pause', runId);
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toMatch(/^paused: items 0\/1 /);
    const pausedJson = JSON.parse((await cli('status', runId, '--json')).stdout) as { status: string; kind: string; progress: { state: string } };
    expect(pausedJson).toMatchObject({ status: 'RUNNING', kind: 'running', progress: { state: 'paused' } });

    const resumed = await cli('resume', workflowId);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/^(planning|running): /);

    const early = await cli('results', runId);
    expect(early.stdout).toMatch(/^state +(planning|running)$/m);
    expectOneLine(early, 1, new RegExp(`run ${workflowId} is still running: its results are written when it ends$`));

    const cancelled = await cli('cancel', runId);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout).toBe(`cancellation requested for ${workflowId}; follow it with: temporal-hume status ${runId}\n`);
    const end = await stack.temporal.client.workflow.getHandle(workflowId).result().catch((e: unknown) => e);
    expect(end).toBeInstanceOf(WorkflowFailedError);

    const [after, again] = await Promise.all([cli('results', runId), cli('pause', runId)]);
    expect(after.code).toBe(1);
    expect(after.stdout).toMatch(/^state +cancelled$/m);
    expect(after.stdout).toMatch(new RegExp(`^folder +${join(dir, 'out', runId)}$`, 'm'));
    // Abandoned, its job was cancelled: the item failed, naming the Hume job left at Hume.
    expect(after.stdout).toMatch(/^items +0 completed, 1 failed, 0 invalid, 0 not run$/m);
    expectOneLine(again, 1, new RegExp(`run ${workflowId} has ended \\(cancelled\\): nothing to pause$`));
  });

  it('cancel --abandon ends a run stuck draining, and its folder names the Hume job it left', async () => {
    const manifest = join(dir, 'stuck.jsonl');
    writeFileSync(manifest, `${JSON.stringify({ id: 's', text: 'Queued for a minute.' })}\n`);
    const runId = uniqueId('stuck');
    const started = await cli('run', manifest, '--models', 'language', '--out', join(dir, 'out'), '--run-id', runId, '--no-wait');
    expect(started.code, started.stderr).toBe(0);
    const handle = stack.temporal.client.workflow.getHandle(`hume-run-${runId}`);
    await expect.poll(async () => (await handle.query('progress') as { jobs: { inFlight: number } }).jobs.inFlight).toBe(1);
    expect((await cli('cancel', runId)).code).toBe(0);
    await expect.poll(async () => (await handle.query('progress') as { state: string }).state).toBe('draining');
    const abandoned = await cli('cancel', runId, '--abandon');
    expect(abandoned.code, abandoned.stderr).toBe(0);
    await expect(handle.result()).rejects.toThrow();
    const after = await cli('results', runId);
    expect(after.stdout).toMatch(/^items +0 completed, 1 failed, 0 invalid, 0 not run$/m);
    expect(after.stdout).toMatch(/cancelled; Hume job\(s\) [0-9a-f-]{36} left at Hume/);
  });
});
