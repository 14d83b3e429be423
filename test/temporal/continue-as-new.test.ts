import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRun } from '../../src/client.js';
import { type DevServer, startDevServer } from '../../src/devserver/index.js';
import { type Stack, startStack } from '../helpers/hume-stack.js';
import { uniqueId } from '../helpers/temporal.js';

describe('humeBatch on a server that suggests continue-as-new early', () => {
  let server: DevServer;
  let stack: Stack;

  beforeAll(async () => {
    server = await startDevServer({ headless: true, dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 60 } });
    stack = await startStack({ temporalAddress: server.address, emulator: { timing: { queuedMs: 5, processingMs: [10, 40] } } });
  });
  afterAll(async () => {
    await stack.close();
    await server.stop();
  });

  it('continues as new, keeps its window and counters, and every item lands once', async () => {
    const items = Array.from({ length: 40 }, (_, i) => ({ id: `t${i}`, text: `continue as new ${i}` }));
    const outDir = mkdtempSync(join(tmpdir(), 'can-'));
    const run = await startRun(
      stack.temporal.client,
      { runId: uniqueId('can'), outDir, items, config: { models: { language: {} } }, maxJobsInFlight: 3, limits: { maxTextsPerJob: 1 } },
      { taskQueue: stack.temporal.taskQueue },
    );
    const result = await run.result();
    const progress = await run.progress();
    expect(progress.continuedAsNew).toBeGreaterThanOrEqual(1);
    expect(progress).toMatchObject({ items: { completed: 40, failed: 0 }, jobs: { planned: 40, completed: 40 }, humeJobsCreated: 40 });
    const index = (await readFile(join(result.runDir, 'index.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(index.map((row) => row.id).sort()).toEqual(items.map((item) => item.id).sort());
    expect(index.every((row) => row.status === 'completed')).toBe(true);

    // Each run of the chain stayed short: the parent continued-as-new soon after the server suggested it.
    const chain = [];
    for await (const execution of stack.temporal.client.workflow.list({ query: `WorkflowId = "${run.workflow.workflowId}"` })) {
      chain.push(execution);
    }
    expect(chain.length).toBe(progress.continuedAsNew + 1);
    for (const execution of chain) expect(execution.historyLength).toBeLessThan(150);
  });
});
