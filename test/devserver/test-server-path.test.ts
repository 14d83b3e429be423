import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveTemporalTestServer, TemporalTestServerNotFoundError } from '../../src/devserver/index.js';

function fakeServer(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'temporal-test-server');
  writeFileSync(path, '#!/bin/sh\n');
  chmodSync(path, 0o755);
  return path;
}

describe('resolveTemporalTestServer', () => {
  const root = mkdtempSync(join(tmpdir(), 'test-server-path-'));
  const explicit = fakeServer(join(root, 'explicit'));
  const cached = fakeServer(join(root, 'cache'));
  const noop = () => {};

  it('prefers TEMPORAL_TEST_SERVER_PATH over the cache', async () => {
    const env = { TEMPORAL_TEST_SERVER_PATH: explicit };
    expect(await resolveTemporalTestServer({ env, cacheDir: join(root, 'cache'), log: noop })).toBe(explicit);
  });

  it('refuses a TEMPORAL_TEST_SERVER_PATH that is not executable, naming it', async () => {
    const env = { TEMPORAL_TEST_SERVER_PATH: join(root, 'nope') };
    await expect(resolveTemporalTestServer({ env, log: noop })).rejects.toThrow(/TEMPORAL_TEST_SERVER_PATH=.*nope/);
  });

  it('then the project cache, without Maven', async () => {
    expect(await resolveTemporalTestServer({ env: { PATH: join(root, 'empty') }, cacheDir: join(root, 'cache'), log: noop })).toBe(cached);
  });

  it('without Maven, explains how to get it', async () => {
    const attempt = resolveTemporalTestServer({ env: { PATH: join(root, 'empty') }, cacheDir: join(root, 'none'), log: noop });
    await expect(attempt).rejects.toBeInstanceOf(TemporalTestServerNotFoundError);
    await expect(attempt).rejects.toThrow(/io\.temporal:temporal-test-server:1\.38\.0/);
  });
});
