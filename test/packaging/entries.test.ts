/**
 * The package's entry points by runtime: client code loads neither the native worker nor an HTTP
 * server nor the AWS SDK; workflow code loads no worker either; worker and testing code have what
 * they promise.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const LOADER = fileURLToPath(new URL('./loaded-packages.mjs', import.meta.url));

async function packagesLoadedBy(entry: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', LOADER, `${root}${entry}`], { cwd: root });
  return stdout.split('\n').filter(Boolean).filter((name) => !['tsx', 'esbuild'].includes(name));
}

const HEAVY = ['@temporalio/worker', '@temporalio/core-bridge', 'fastify', '@aws-sdk/client-s3', 'pino', 'undici', 'commander'];

describe('entry points', () => {
  it('temporal-hume (client code) loads no native worker, HTTP server, AWS SDK or CLI dependency', async () => {
    const loaded = await packagesLoadedBy('src/index.ts');
    expect(loaded.filter((name) => HEAVY.includes(name))).toEqual([]);
    expect(loaded).toContain('@temporalio/common');
  });

  it('temporal-hume/workflows loads no native worker or HTTP server', async () => {
    const loaded = await packagesLoadedBy('src/workflows/index.ts');
    expect(loaded.filter((name) => HEAVY.includes(name))).toEqual([]);
  });

  it('each entry exports what its runtime needs', async () => {
    const client = await import('../../src/index.js');
    expect(Object.keys(client)).toEqual(expect.arrayContaining(['startRun', 'getRun', 'redriveRun', 'runHumeJob', 'FAILURE_TYPES', 'humeFailureOf', 'HumeBatchInput', 'dataConverterFromEnv']));
    expect(Object.keys(client)).not.toContain('HumeBatchPlugin');
    // Failure types as constants, so callers compare against ours instead of copying strings.
    expect(client.FAILURE_TYPES).toMatchObject({ runFailed: 'RUN_FAILED', invalidManifest: 'INVALID_MANIFEST', storageUnusable: 'STORAGE_UNUSABLE', runIdTaken: 'RUN_ID_TAKEN' });
    const worker = await import('../../src/worker-api.js');
    expect(Object.keys(worker)).toEqual(expect.arrayContaining(['HumeBatchPlugin', 'createHumeWorker', 'createActivities', 'HumeClient', 'startReceiver', 'createStorage', 'workflowsPath']));
    const testing = await import('../../src/testing.js');
    expect(Object.keys(testing)).toEqual(expect.arrayContaining(['startHumeEmulator', 'startDevServer']));
    const workflows = await import('../../src/workflows/index.js');
    expect(Object.keys(workflows)).toEqual(expect.arrayContaining(['humeBatch', 'humeJob', 'humeFailureOf']));
  });
});
