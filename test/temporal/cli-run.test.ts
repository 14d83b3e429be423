/**
 * `temporal-hume run` to completion and `results`, through the real bin, against the shared dev
 * server, a Hume-compatible server and an in-process worker.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cleanEnv, expectOneLine } from '../cli/helpers.js';
import { API_KEY, type Stack, startStack } from '../helpers/hume-stack.js';
import { runCli } from '../helpers/spawn.js';
import { uniqueId } from '../helpers/temporal.js';

const ITEMS = 12;

describe.concurrent('temporal-hume run', () => {
  let stack: Stack;
  let dir: string;
  let manifest: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    stack = await startStack();
    dir = mkdtempSync(join(tmpdir(), 'cli-run-'));
    manifest = join(dir, 'manifest.jsonl');
    const lines = Array.from({ length: ITEMS }, (_, i) => JSON.stringify({ id: `t-${i}`, text: `Sentence ${i}, rather cheerful.` }));
    writeFileSync(manifest, `${lines.join('\n')}\n`);
    env = cleanEnv({
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: stack.temporal.taskQueue,
      HUME_API_KEY: API_KEY,
      HUME_BASE_URL: stack.emulator.url,
    });
  });
  afterAll(() => stack.close());

  it('runs a manifest to completion and prints where the results are', async () => {
    const runId = uniqueId('plain');
    const out = join(dir, 'out');
    const result = await runCli(['run', manifest, '--models', 'language', '--out', out, '--run-id', runId], env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`run ${runId} started (workflow hume-run-${runId}`);
    expect(result.stdout).toMatch(/^state +completed$/m);
    expect(result.stdout).toMatch(new RegExp(`^folder +${join(out, runId)}$`, 'm'));
    expect(result.stdout).toMatch(new RegExp(`^items +${ITEMS} completed, 0 failed, 0 invalid, 0 not run$`, 'm'));
    expect(result.stdout).toMatch(/^csv\/language\.csv +\d+ rows$/m);
  });

  it('--json prints the result as one JSON document, and `results` reads it back', async () => {
    const runId = uniqueId('json');
    const run = await runCli(['run', manifest, '--models', '{"language":{"sentiment":{}}}', '--out', join(dir, 'out'), '--run-id', runId, '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { workflowId: string; state: string; runDir: string; summary: { items: { completed: number }; csv: Record<string, number> } };
    expect(result).toMatchObject({ workflowId: `hume-run-${runId}`, state: 'completed', summary: { items: { completed: ITEMS } } });

    const [json, plain] = await Promise.all([runCli(['results', runId, '--json'], env), runCli(['results', runId], env)]);
    expect(json.code, json.stderr).toBe(0);
    const read = JSON.parse(json.stdout) as { runDir: string; summaryJson: { state: string; csv: Record<string, { path: string; rows: number }> } };
    expect(read.runDir).toBe(result.runDir);
    expect(read.summaryJson.state).toBe('completed');
    expect(read.summaryJson.csv.language).toEqual({ path: 'csv/language.csv', rows: result.summary.csv.language });
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(new RegExp(`^csv/language\\.csv +${result.summary.csv.language} rows$`, 'm'));
    expect(plain.stdout).toMatch(new RegExp(`^summary +${join(result.runDir, 'summary.json')}$`, 'm'));
  });

  it('a manifest the workflow refuses exits 2, naming the line', async () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, `${JSON.stringify({ id: 'x', text: 'fine' })}\n${JSON.stringify({ id: 'y', text: '' })}\n`);
    const result = await runCli(['run', bad, '--models', 'language', '--out', join(dir, 'out')], env);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/^temporal-hume: run failed: the manifest .*bad\.jsonl has 1 invalid line:\nline 2: text: /m);
  });

  it('an unknown run id is one line, exit 2', async () => {
    expectOneLine(await runCli(['status', 'no-such-run'], env), 2, /unknown run: no workflow hume-run-no-such-run /);
  });
});
