/** `temporal-hume emulator`: prints `listening on …` once ready, honours its flags, stops on SIGTERM. */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { emulatorCommand } from '../../src/cli/emulator.js';
import { spawnEmulator } from './helpers.js';

const script = fileURLToPath(new URL('./fixtures/cli-main.ts', import.meta.url));

describe('emulator command', () => {
  it('prints exactly "listening on http://HOST:PORT", serves with its flags, and exits 0 on SIGTERM', async () => {
    const emulator = await spawnEmulator(script, [
      '--port', '0', '--api-key', 'cli-key', '--queued-ms', '0-5', '--processing-ms', '5', '--fault-job-failure-rate', '1', '--max-queued-jobs', '3',
    ]);
    const { url } = emulator;
    try {
      const headers = { 'x-hume-api-key': 'cli-key' };
      expect((await fetch(`${url}/v0/batch/jobs`, { headers })).status).toBe(200);
      expect((await fetch(`${url}/v0/batch/jobs`, { headers: { 'x-hume-api-key': 'emulator-dev-key' } })).status).toBe(401);
      const faults = (await (await fetch(`${url}/_emulator/faults`, { headers })).json()) as Record<string, number>;
      expect(faults.jobFailureRate).toBe(1);
    } finally {
      expect(await emulator.stop()).toBe(0);
    }
    expect(emulator.stdout()).toBe(`listening on ${url}\n`);
  });

  it('refuses a malformed range', async () => {
    const cmd = emulatorCommand().exitOverride().configureOutput({ writeErr: () => {} });
    await expect(cmd.parseAsync(['--queued-ms', 'soon'], { from: 'user' })).rejects.toThrow(/MIN-MAX/);
  });
});
