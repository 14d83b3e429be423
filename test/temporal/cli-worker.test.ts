/**
 * `temporal-hume worker` and `dev-server` as a person starts them, through the real bin: the one
 * ready line each prints on stdout, two workers on one host with `HUME_WEBHOOK_PORT=0` and
 * `HUME_CALLBACK_BASE_URL=auto` (no collision on 8787, callbacks reaching each), a run whose
 * results folder cannot be written refused at once, the SDK core's warnings kept off stdout, and
 * Ctrl-C while following a run no worker polls.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type HumeEmulator, startHumeEmulator } from '../../src/emulator/index.js';
import { cleanEnv, expectOneLine } from '../cli/helpers.js';
import { runCli, spawnCli } from '../helpers/spawn.js';
import { connectTemporal, uniqueId } from '../helpers/temporal.js';

const API_KEY = 'cli-worker-test-key-7c41';
const SECRET = 'cli-worker-webhook-secret-0d9a';

/** Resolves with the first stdout line matching `pattern` (stderr kept for the message). */
function stdoutLine(child: ChildProcessWithoutNullStreams, pattern: RegExp, timeoutMs = 170_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`no stdout line matching ${pattern}:\n${out}\n${err}`)), timeoutMs);
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const match = out.match(pattern);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before printing ${pattern}:\n${out}\n${err}`));
    });
  });
}

async function stop(child: ChildProcessWithoutNullStreams, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = once(child, 'exit') as Promise<[number | null]>;
  child.kill(signal);
  return (await exited)[0];
}

describe('temporal-hume worker and dev-server', () => {
  let dir: string;
  let hume: HumeEmulator;
  const children: ChildProcessWithoutNullStreams[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cli-worker-'));
    hume = await startHumeEmulator({ apiKey: API_KEY });
  });
  afterAll(async () => {
    await Promise.all(children.map((child) => stop(child, 'SIGKILL')));
    await hume.close();
  });

  it('two workers on one host, receivers on port 0 with auto callback URLs: each prints its ready line and hears its callbacks', async () => {
    const taskQueue = uniqueId('cli-worker');
    const address = inject('temporalAddress');
    const env = cleanEnv({
      TEMPORAL_ADDRESS: address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      HUME_API_KEY: API_KEY,
      HUME_BASE_URL: hume.url,
      HUME_WEBHOOK_SECRET: SECRET,
      HUME_WEBHOOK_PORT: '0',
      HUME_CALLBACK_BASE_URL: 'auto',
      HUME_RESULTS_ROOT: join(dir, 'out'),
    });
    const workers = [spawnCli(['worker'], env), spawnCli(['worker'], env)];
    children.push(...workers);
    const ready = /^worker ready: task queue (\S+) on (\S+) \((\S+)\); callbacks at (http:\/\/127\.0\.0\.1:(\d+))$/m;
    const lines = await Promise.all(workers.map((worker) => stdoutLine(worker, ready)));
    const ports = lines.map((m) => Number(m[5]));
    for (const m of lines) expect(m.slice(1, 4)).toEqual([taskQueue, address, 'default']);
    expect(new Set(ports).size).toBe(2);
    expect(ports).not.toContain(8787);
    for (const m of lines) expect((await fetch(`${m[4]}/healthz`)).status).toBe(200);

    // A run on that queue: its job's callback reaches the worker that signed its URL.
    const manifest = join(dir, 'manifest.jsonl');
    writeFileSync(manifest, `${[1, 2, 3].map((i) => JSON.stringify({ id: `t${i}`, text: `Sentence ${i}.` })).join('\n')}\n`);
    // With callbacks the first poll comes after 3 minutes: a run done well before heard its callback.
    const run = await runCli(['run', manifest, '--models', 'language', '--out', join(dir, 'out')], env);
    expect(run.code, run.stderr).toBe(0);
    expect(hume.stats().callbacksSent).toBeGreaterThan(0);
    expect(hume.stats().callbacksFailed).toBe(0);

    // A results folder under a file: planning refuses at once, in one line, instead of retrying.
    const aFile = join(dir, 'a-file');
    writeFileSync(aFile, 'not a folder');
    const started = Date.now();
    const refused = await runCli(['run', manifest, '--models', 'language', '--out', join(aFile, 'out')], env);
    // The progress line that the run started, then the one error line.
    const [startedLine, ...rest] = refused.stderr.trimEnd().split('\n');
    expect(startedLine).toMatch(/^run \S+ started/);
    expectOneLine({ code: refused.code, stderr: rest.join('\n') }, 1, new RegExp(`run failed: cannot write ${aFile}/out/.*: ENOTDIR \\(a part of the path is a file, not a folder\\)$`));
    expect(Date.now() - started).toBeLessThan(60_000);

    expect(await Promise.all(workers.map((worker) => stop(worker)))).toEqual([0, 0]);
  });

  it('Ctrl-C while following a run no worker polls exits 130 in one line, without a stack trace', async () => {
    const manifest = join(dir, 'nobody.jsonl');
    writeFileSync(manifest, `${JSON.stringify({ text: 'Nobody listens.' })}\n`);
    const runId = uniqueId('nobody');
    const env = cleanEnv({ TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: uniqueId('no-worker') });
    const child = spawnCli(['run', manifest, '--models', 'language', '--out', join(dir, 'out'), '--run-id', runId], env);
    children.push(child);
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    await expect.poll(() => stderr, { timeout: 60_000 }).toContain(`run ${runId} started`);
    // Let a progress query be on its way (every 5 s) when the signal comes.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const code = await stop(child, 'SIGINT');
    expect(code, stderr).toBe(130);
    const after = stderr.slice(stderr.indexOf(`run ${runId} started`)).split('\n').slice(1).filter((l) => l.startsWith('temporal-hume:') || /\bat |Error|Channel/.test(l));
    expect(after, stderr).toEqual([`temporal-hume: SIGINT: stopped watching; the run goes on (temporal-hume status ${runId}, temporal-hume cancel ${runId})`]);
  });

  it("keeps stdout to its ready line: the SDK core's own warnings (a failing workflow task) go to stderr as JSON log lines", async () => {
    const taskQueue = uniqueId('cli-worker-core-log');
    const env = cleanEnv({ TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: taskQueue, HUME_API_KEY: API_KEY, HUME_BASE_URL: hume.url });
    const worker = spawnCli(['worker'], env);
    children.push(worker);
    let stdout = '';
    let stderr = '';
    worker.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    worker.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    await expect.poll(() => stdout, { timeout: 170_000 }).toMatch(/^worker ready: /);
    // A workflow type the worker does not have: each of its workflow tasks fails, which the core logs at WARN.
    const temporal = await connectTemporal();
    try {
      await temporal.client.workflow.start('noSuchWorkflow', { taskQueue, workflowId: uniqueId('no-such-workflow') });
      await expect.poll(() => stderr, { timeout: 60_000 }).toContain('Failing workflow task');
    } finally {
      await temporal.close();
    }
    const coreLine = stderr.split('\n').find((line) => line.includes('Failing workflow task'))!;
    expect(JSON.parse(coreLine)).toMatchObject({ sdkComponent: 'core', msg: 'Failing workflow task' });
    expect(await stop(worker)).toBe(0);
    expect(stdout.trimEnd().split('\n'), stdout).toEqual([expect.stringMatching(/^worker ready: task queue \S+ on \S+ \(default\); jobs polled/)]);
  });

  it('dev-server prints one ready line: address and UI', async () => {
    const child = spawnCli(['dev-server', '--headless'], cleanEnv());
    children.push(child);
    const [line] = await stdoutLine(child, /^dev server ready: .*$/m);
    expect(line).toMatch(/^dev server ready: 127\.0\.0\.1:\d+ \(no UI\)$/);
    await stop(child);
  });
});
