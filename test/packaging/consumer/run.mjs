// A consumer's worker and client, as the README tells one to write them, against the Temporal
// server at argv[2]: first one worker with its own workflows and the plugin, then a workflow-only
// worker beside an activity-only one. Prints one JSON line with both results.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { startRun } from 'temporal-hume';
import { startHumeEmulator } from 'temporal-hume/testing';
import { HumeBatchPlugin } from 'temporal-hume/worker';

const address = process.argv[2];
const emulator = await startHumeEmulator({ timing: { queuedMs: 10, processingMs: 20 } });
const connection = await NativeConnection.connect({ address });
const client = new Client({ connection: await Connection.connect({ address }) });
const workflowsPath = fileURLToPath(new URL('./workflows.mjs', import.meta.url));
// Pointed at a Hume-compatible server by its base URL; callbacks left out, so jobs are polled.
const hume = { apiKey: emulator.apiKey, baseUrl: emulator.url };
const dir = mkdtempSync(join(tmpdir(), 'consumer-'));

async function survey(taskQueue, name) {
  return client.workflow.execute('survey', {
    taskQueue,
    workflowId: `${taskQueue}-${name}`,
    args: [{ outDir: join(dir, name), resultDir: join(dir, `${name}-job`), texts: ['It works.', 'From a packed tarball.'] }],
  });
}

const oneQueue = `consumer-one-${process.pid}`;
const one = await Worker.create({ connection, taskQueue: oneQueue, workflowsPath, plugins: [new HumeBatchPlugin({ hume })] });
const together = await one.runUntil(survey(oneQueue, 'together'));

const splitQueue = `consumer-split-${process.pid}`;
const workflowWorker = await Worker.create({ connection, taskQueue: splitQueue, workflowsPath, plugins: [new HumeBatchPlugin({ hume, activities: 'local' })] });
const activityWorker = await Worker.create({ connection, taskQueue: splitQueue, plugins: [new HumeBatchPlugin({ hume })] });
const split = await activityWorker.runUntil(workflowWorker.runUntil(survey(splitQueue, 'split')));

// And a run started from client code, with the client entry only.
const run = await startRun(client, { items: [{ text: 'Started by startRun.' }], outDir: join(dir, 'client'), config: { models: { language: {} } } }, { taskQueue: oneQueue });
const fromClient = await (await Worker.create({ connection, taskQueue: oneQueue, workflowsPath, plugins: [new HumeBatchPlugin({ hume })] })).runUntil(run.result());

console.log(JSON.stringify({ together, split, fromClient, activityWorkerHasWorkflows: Boolean(activityWorker.options.workflowsPath || activityWorker.options.workflowBundle) }));
await emulator.close();
await connection.close();
process.exit(0);
