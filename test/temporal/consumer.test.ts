/**
 * temporal-hume as a user installs it: `npm pack` (which builds dist/ itself), a consumer project
 * on another @temporalio 1.x release than our dev dependencies, one copy of each @temporalio
 * package, and the consumer's worker with the plugin and its own workflows running humeBatch and
 * humeJob as children, also split into a workflow-only and an activity-only worker.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
/** Not our dev dependencies' release: the peer range must hold for it. */
const CONSUMER_TEMPORAL = '1.23.0';
const PEERS = ['activity', 'client', 'common', 'envconfig', 'plugin', 'proto', 'worker', 'workflow'].map((name) => `@temporalio/${name}`);

describe('a consumer project installing the packed package', () => {
  it(`runs humeBatch and humeJob as children on @temporalio ${CONSUMER_TEMPORAL}, with one copy of each @temporalio package`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'consumer-project-'));
    try {
    const { stdout: packed } = await run('npm', ['pack', '--pack-destination', dir, '--json'], { cwd: root, maxBuffer: 64 << 20 });
    const tarball = join(dir, (JSON.parse(packed) as Array<{ filename: string; files: Array<{ path: string }> }>)[0]!.filename);
    const files = (JSON.parse(packed) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['dist/index.js', 'dist/worker-api.js', 'dist/workflows/index.js', 'dist/testing.js', 'dist/cli.js', 'bin/temporal-hume.js']));
    expect(files.some((path) => path.startsWith('src/'))).toBe(false);

    const project = join(dir, 'app');
    await cp(fileURLToPath(new URL('../packaging/consumer/', import.meta.url)), project, { recursive: true });
    const dependencies = { 'temporal-hume': `file:${tarball}`, ...Object.fromEntries(PEERS.map((name) => [name, CONSUMER_TEMPORAL])) };
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies }, null, 2));
    await run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: project, maxBuffer: 64 << 20 });

    // One copy of each: every @temporalio package at the consumer's release, none nested under ours.
    for (const name of PEERS) {
      const { stdout } = await run('npm', ['ls', name, '--all', '--parseable'], { cwd: project });
      const copies = stdout.split('\n').filter(Boolean).filter((path) => path.endsWith(name));
      expect(copies, name).toEqual([join(project, 'node_modules', name)]);
      expect(JSON.parse(await readFile(join(copies[0]!, 'package.json'), 'utf8')).version, name).toBe(CONSUMER_TEMPORAL);
    }
    const nested = await readdir(join(project, 'node_modules', 'temporal-hume', 'node_modules')).catch(() => [] as string[]);
    expect(nested).not.toContain('@temporalio');

    const { stdout } = await run(process.execPath, ['run.mjs', inject('temporalAddress')], { cwd: project, maxBuffer: 64 << 20, timeout: 240_000 });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
    for (const key of ['together', 'split']) {
      expect(result[key].batch, key).toMatchObject({ state: 'completed', runDir: expect.stringContaining(`/${key}/`), summary: { items: { completed: 2, failed: 0 } } });
      expect(result[key].job, key).toMatchObject({ status: 'COMPLETED' });
      // The child's result says where its folder is: the index is there.
      expect((await readFile(join(result[key].batch.runDir, 'index.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(2);
    }
    expect(result.fromClient).toMatchObject({ state: 'completed' });
    expect(result.activityWorkerHasWorkflows).toBe(false);

    // The CLI works from the installed package too.
    const { stdout: help } = await run(join(project, 'node_modules', '.bin', 'temporal-hume'), ['--help'], { cwd: project });
    expect(help).toMatch(/Usage: temporal-hume/);
    } finally {
      // The project holds a whole install (~340 MB).
      await rm(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
