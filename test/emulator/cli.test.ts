/** `temporal-hume emulator`: prints `listening on …` once ready, honours its flags, stops on SIGTERM. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { emulatorCommand } from '../../src/cli/emulator.js';

const script = fileURLToPath(new URL('./fixtures/cli-main.ts', import.meta.url));

describe('emulator command', () => {
  it('prints exactly "listening on http://HOST:PORT", serves with its flags, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [
      '--import', 'tsx', script,
      '--port', '0', '--api-key', 'cli-key', '--queued-ms', '0-5', '--processing-ms', '5', '--fault-job-failure-rate', '1', '--max-queued-jobs', '3',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
        const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(stdout);
        if (m?.[1]) resolve(m[1]);
      });
      void exited.then((code) => reject(new Error(`exited ${code}: ${stderr}`)));
    });
    try {
      const headers = { 'x-hume-api-key': 'cli-key' };
      expect((await fetch(`${url}/v0/batch/jobs`, { headers })).status).toBe(200);
      expect((await fetch(`${url}/v0/batch/jobs`, { headers: { 'x-hume-api-key': 'emulator-dev-key' } })).status).toBe(401);
      const faults = (await (await fetch(`${url}/_emulator/faults`, { headers })).json()) as Record<string, number>;
      expect(faults.jobFailureRate).toBe(1);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stdout).toBe(`listening on ${url}\n`);
  });

  it('refuses a malformed range', async () => {
    const cmd = emulatorCommand().exitOverride().configureOutput({ writeErr: () => {} });
    await expect(cmd.parseAsync(['--queued-ms', 'soon'], { from: 'user' })).rejects.toThrow(/MIN-MAX/);
  });
});
