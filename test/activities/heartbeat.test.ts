/**
 * Heartbeat details are where a retried transfer resumes from: an attempt carries the previous
 * attempt's counts until it reports its own, so one that fails early does not erase them.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { whileHeartbeating } from '../../src/activities/heartbeat.js';

function environment(previous?: Record<string, number>) {
  const env = new MockActivityEnvironment(previous ? { heartbeatDetails: previous } : {});
  const beats: unknown[] = [];
  env.on('heartbeat', (details: unknown) => beats.push(details));
  return { env, beats };
}

describe('whileHeartbeating', () => {
  it("keeps the previous attempt's counts when this attempt fails before reporting", async () => {
    const { env, beats } = environment({ predictionsBytes: 5_000_000 });
    let seen: Record<string, number> | undefined;
    const attempt = env.run(() =>
      whileHeartbeating(async (_signal, progress) => {
        seen = progress.previous;
        throw new Error('connection refused');
      }),
    );
    await expect(attempt).rejects.toThrow('connection refused');
    expect(seen).toEqual({ predictionsBytes: 5_000_000 });
    expect(beats).toEqual([{ predictionsBytes: 5_000_000 }]);
  });

  it('sends the first report at once and carries the latest in later heartbeats', async () => {
    const { env, beats } = environment();
    await env.run(() =>
      whileHeartbeating(async (_signal, progress) => {
        expect(progress.previous).toBeUndefined();
        progress.report({ uploadedBytes: 10 });
        progress.report({ uploadedBytes: 20 });
      }),
    );
    expect(beats).toEqual([undefined, { uploadedBytes: 10 }]);
  });
});
