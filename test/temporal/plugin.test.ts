import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HumeEmulator, startHumeEmulator } from '../../src/emulator/index.js';
import { HumeBatchPlugin } from '../../src/plugin.js';
import { humeJob } from '../../src/workflows/index.js';
import { connectTemporal, type TemporalTestContext, testWorkflowBundle, uniqueId } from '../helpers/temporal.js';

describe('HumeBatchPlugin on a user’s own worker', () => {
  let temporal: TemporalTestContext;
  let emulator: HumeEmulator;

  beforeAll(async () => {
    temporal = await connectTemporal();
    emulator = await startHumeEmulator({ timing: { queuedMs: 10, processingMs: 20 } });
  });
  afterAll(async () => {
    await emulator.close();
    await temporal.close();
  });

  it('registers our activities beside the user’s own in one line, and humeJob runs', async () => {
    const worker = await Worker.create({
      connection: temporal.nativeConnection,
      taskQueue: temporal.taskQueue,
      workflowBundle: await testWorkflowBundle(),
      activities: { greet: async (name: string) => `hello ${name}` },
      plugins: [new HumeBatchPlugin({ hume: { apiKey: emulator.apiKey, baseUrl: emulator.url } })],
    });
    const result = await worker.runUntil(
      temporal.client.workflow.execute(humeJob, {
        taskQueue: temporal.taskQueue,
        workflowId: uniqueId('plugin'),
        args: [{ texts: ['Plugged in.'], config: { models: { language: {} } }, resultDir: join(mkdtempSync(join(tmpdir(), 'plugin-')), 'r'), polling: { firstPollAfter: 100 } }],
      }),
    );
    expect(result.status).toBe('COMPLETED');
    expect(worker.options.activities.has('greet')).toBe(true);
    expect(worker.options.activities.has('humeSubmitJob')).toBe(true);
  });

  it('refuses bad options, naming them', () => {
    expect(() => new HumeBatchPlugin({} as never)).toThrow(/options\.hume is required/);
    expect(() => new HumeBatchPlugin({ hume: { apiKey: '' } })).toThrow(/apiKey/);
  });
});
