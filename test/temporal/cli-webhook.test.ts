/**
 * `temporal-hume webhook`: the receiver alone, through the real bin. It prints `listening on`,
 * answers /healthz, logs JSON lines without the token of a callback URL, and stops on SIGTERM.
 */
import { describe, expect, inject, it } from 'vitest';
import { cleanEnv, expectOneLine } from '../cli/helpers.js';
import { freePort } from '../../src/devserver/index.js';
import { sample } from '../helpers/prometheus.js';
import { runCli, spawnCli, waitForLine } from '../helpers/spawn.js';

const SECRET = 'webhook-secret-for-the-cli-test-3c9d';

describe('temporal-hume webhook', () => {
  it('listens, answers /healthz, keeps tokens out of its logs, and exits 0 on SIGTERM', async () => {
    const env = cleanEnv({ TEMPORAL_ADDRESS: inject('temporalAddress'), HUME_WEBHOOK_SECRET: SECRET, HUME_WEBHOOK_PORT: '0' });
    const child = spawnCli(['webhook'], env);
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const [, url] = await waitForLine(child, /^listening on (http:\/\/127\.0\.0\.1:\d+)$/m, 30_000);
      expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
      const forged = await fetch(`${url}/hume/callback/hume-run-x?token=${SECRET}-forged-token`, { method: 'POST', body: '{}' });
      expect(forged.status).toBe(401);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    const logs = stderr.trim().split('\n').map((line) => JSON.parse(line) as { msg: string; req?: { url: string } });
    expect(logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['webhook receiver ready', 'webhook receiver stopping']));
    expect(logs.find((l) => l.req?.url.startsWith('/hume/callback/'))?.req?.url).toBe('/hume/callback/hume-run-x?token=[redacted]');
    expect(stderr).not.toContain(SECRET);
  });

  it('serves its callback counts on TEMPORAL_HUME_METRICS_ADDRESS, like a worker', async () => {
    const metrics = `127.0.0.1:${await freePort()}`;
    const env = cleanEnv({ TEMPORAL_ADDRESS: inject('temporalAddress'), HUME_WEBHOOK_SECRET: SECRET, HUME_WEBHOOK_PORT: '0', TEMPORAL_HUME_METRICS_ADDRESS: metrics });
    const child = spawnCli(['webhook'], env);
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      // stdout and stderr come through one buffer: other lines may fall between the two.
      const [, url, served] = await waitForLine(child, /^listening on (http:\/\/127\.0\.0\.1:\d+)$[\s\S]*^metrics at (\S+)$/m, 30_000);
      expect(served).toBe(`http://${metrics}/metrics`);
      for (let i = 0; i < 2; i++) {
        expect((await fetch(`${url}/hume/callback/hume-run-x?token=forged-${i}`, { method: 'POST', body: '{}' })).status).toBe(401);
      }
      // The SDK hands counts to its exporter in the background: polled, as a scraper would see them.
      const rejected = async () => sample(await (await fetch(`http://${metrics}/metrics`)).text(), 'hume_callbacks', { outcome: 'rejected', status: '401' });
      await expect.poll(rejected, { timeout: 10_000 }).toBe(2);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('refuses to start without HUME_WEBHOOK_SECRET (2)', async () => {
    const result = await runCli(['webhook'], cleanEnv({ TEMPORAL_ADDRESS: inject('temporalAddress') }));
    expectOneLine(result, 2, /HUME_WEBHOOK_SECRET is not set/);
  });
});
