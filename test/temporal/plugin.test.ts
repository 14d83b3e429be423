import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HumeEmulator, startHumeEmulator } from '../../src/emulator/index.js';
import { HumeBatchPlugin } from '../../src/plugin.js';
import { createHumeWorker, sharedWorkflowModules, workflowsPath } from '../../src/worker.js';
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

  it('runs our activities on an activity-only worker, which stays one, beside a workflow worker with only our local activities', async () => {
    const activitiesOnly = await Worker.create({
      connection: temporal.nativeConnection,
      taskQueue: temporal.taskQueue,
      plugins: [new HumeBatchPlugin({ hume: { apiKey: emulator.apiKey, baseUrl: emulator.url } })],
    });
    expect(activitiesOnly.options.workflowsPath).toBeUndefined();
    expect(activitiesOnly.options.workflowBundle).toBeUndefined();
    const workflowsOnly = await Worker.create({
      connection: temporal.nativeConnection,
      taskQueue: temporal.taskQueue,
      workflowBundle: await testWorkflowBundle(),
      plugins: [new HumeBatchPlugin({ hume: { apiKey: emulator.apiKey, baseUrl: emulator.url }, activities: 'local' })],
    });
    // The status check, the submit of texts and the fetch of a few short texts run beside the workflow.
    expect([...workflowsOnly.options.activities.keys()]).toEqual(['humeCheckJob', 'humeSubmitJob', 'humeFetchResults']);
    const run = temporal.client.workflow.execute(humeJob, {
      taskQueue: temporal.taskQueue,
      workflowId: uniqueId('plugin-split'),
      args: [{ texts: ['Split workers.'], config: { models: { language: {} } }, resultDir: join(mkdtempSync(join(tmpdir(), 'plugin-')), 'r'), polling: { firstPollAfter: 100 } }],
    });
    const result = await activitiesOnly.runUntil(workflowsOnly.runUntil(run));
    expect(result.status).toBe('COMPLETED');
  });

  it('leaves a worker’s own workflowsPath and prebuilt bundle alone, and gives ours only when asked to a worker without any', () => {
    const hume = { apiKey: emulator.apiKey, baseUrl: emulator.url };
    const base = { taskQueue: 'q' };
    const theirs = new HumeBatchPlugin({ hume }).configureWorker({ ...base, workflowsPath: '/their/workflows.js' });
    expect(theirs.workflowsPath).toBe('/their/workflows.js');
    const bundle = { code: 'bundle' };
    const bundled = new HumeBatchPlugin({ hume, workflows: 'ours' }).configureWorker({ ...base, workflowBundle: bundle });
    expect(bundled).toMatchObject({ workflowBundle: bundle, workflowsPath: undefined });
    expect(new HumeBatchPlugin({ hume }).configureWorker(base).workflowsPath).toBeUndefined();
    expect(new HumeBatchPlugin({ hume, workflows: 'ours' }).configureWorker(base).workflowsPath).toBe(workflowsPath());
    expect(new HumeBatchPlugin({ hume, workflows: 'ours' }).configureWorker({ ...base, workflowsPath: '/their/workflows.js' }).workflowsPath).toBe('/their/workflows.js');
  });

  it('has a bundle of our workflows load zod once per workflow thread, beside what the user preloads; a user’s own workflows file is left alone', () => {
    const hume = { apiKey: emulator.apiKey, baseUrl: emulator.url };
    const plugin = new HumeBatchPlugin({ hume, workflows: 'ours' });
    expect(plugin.configureBundler({ workflowsPath: workflowsPath(), preloadModules: ['/their/lib.js'] }).preloadModules).toEqual([...sharedWorkflowModules(), '/their/lib.js']);
    expect(plugin.configureBundler({ workflowsPath: '/their/workflows.js', preloadModules: ['/their/lib.js'] }).preloadModules).toEqual(['/their/lib.js']);
  });

  it('createHumeWorker bundles our workflows file with zod shared, and a worker’s own workflowsPath without', async () => {
    const hume = { apiKey: emulator.apiKey, baseUrl: emulator.url };
    const own = fileURLToPath(new URL('../fixtures/workflows.ts', import.meta.url));
    for (const [workerOptions, preloaded] of [[{}, sharedWorkflowModules()], [{ workflowsPath: own }, []]] as const) {
      const worker = await createHumeWorker({ connection: temporal.nativeConnection, taskQueue: uniqueId('preload'), hume, workerOptions });
      expect(worker.options.bundlerOptions?.preloadModules).toEqual(preloaded);
      await worker.runUntil(Promise.resolve());
    }
  }, 120_000);

  it('adds the interceptors it is given to the worker’s own: every activity of a run passes through them', async () => {
    const seen: string[] = [];
    const worker = await Worker.create({
      connection: temporal.nativeConnection,
      taskQueue: temporal.taskQueue,
      workflowBundle: await testWorkflowBundle(),
      plugins: [
        new HumeBatchPlugin({
          hume: { apiKey: emulator.apiKey, baseUrl: emulator.url },
          interceptors: { activity: [(ctx) => ({ inbound: { execute: (input, next) => (seen.push(ctx.info.activityType), next(input)) } })] },
        }),
      ],
    });
    await worker.runUntil(
      temporal.client.workflow.execute(humeJob, {
        taskQueue: temporal.taskQueue,
        workflowId: uniqueId('plugin-intercepted'),
        args: [{ texts: ['Intercepted.'], config: { models: { language: {} } }, resultDir: join(mkdtempSync(join(tmpdir(), 'plugin-')), 'r'), polling: { firstPollAfter: 100 } }],
      }),
    );
    expect(seen).toEqual(expect.arrayContaining(['humeSubmitJob', 'humeFetchResults']));
  });

  it('refuses bad options, each naming its option', () => {
    const hume = { apiKey: 'k' };
    expect(() => new HumeBatchPlugin({} as never)).toThrow(/^HumeBatchPlugin: options\.hume: required/);
    expect(() => new HumeBatchPlugin({ hume: { apiKey: '' } })).toThrow(/apiKey/);
    expect(() => new HumeBatchPlugin({ hume, callbacks: { baseUrl: 'ftp://x', secrets: ['a-long-enough-secret'] } })).toThrow(/options\.callbacks\.baseUrl: an http\(s\) URL/);
    expect(() => new HumeBatchPlugin({ hume, callbacks: { baseUrl: 'https://x.example', secrets: ['short'] } })).toThrow(/options\.callbacks\.secrets\.0: each secret needs at least 16 characters/);
    expect(() => new HumeBatchPlugin({ hume, workflows: 'theirs' as never })).toThrow(/options\.workflows/);
    expect(() => new HumeBatchPlugin({ hume, storage: {} as never })).toThrow(/options\.storage: a Storage/);
    expect(() => new HumeBatchPlugin({ hume, receiver: { client: {} as never } })).toThrow(/options\.receiver needs options\.callbacks/);
  });
});
