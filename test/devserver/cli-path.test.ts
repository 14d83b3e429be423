import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveTemporalCli, TemporalCliNotFoundError } from '../../src/devserver/index.js';

function fakeBinary(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'temporal');
  writeFileSync(path, '#!/bin/sh\n');
  chmodSync(path, 0o755);
  return path;
}

describe('resolveTemporalCli', () => {
  const root = mkdtempSync(join(tmpdir(), 'cli-path-'));
  const onPath = fakeBinary(join(root, 'bin'));
  const explicit = fakeBinary(join(root, 'explicit'));
  const cached = fakeBinary(join(root, 'cache'));
  const noop = () => {};

  it('prefers TEMPORAL_CLI_PATH over everything else', async () => {
    const env = { TEMPORAL_CLI_PATH: explicit, PATH: join(root, 'bin') };
    expect(await resolveTemporalCli({ env, cacheDir: join(root, 'cache'), log: noop })).toBe(explicit);
  });

  it('refuses a TEMPORAL_CLI_PATH that is not executable, naming it', async () => {
    const env = { TEMPORAL_CLI_PATH: join(root, 'nope') };
    await expect(resolveTemporalCli({ env, log: noop })).rejects.toThrow(/TEMPORAL_CLI_PATH=.*nope/);
  });

  it('then takes `temporal` on PATH', async () => {
    const env = { PATH: join(root, 'bin') };
    expect(await resolveTemporalCli({ env, cacheDir: join(root, 'cache'), log: noop })).toBe(onPath);
  });

  it('then the project cache', async () => {
    const env = { PATH: join(root, 'empty') };
    expect(await resolveTemporalCli({ env, cacheDir: join(root, 'cache'), log: noop })).toBe(cached);
  });

  it('without Go or a build, explains how to install it', async () => {
    const env = { PATH: join(root, 'empty') };
    const attempt = resolveTemporalCli({ env, cacheDir: join(root, 'none'), log: noop });
    await expect(attempt).rejects.toBeInstanceOf(TemporalCliNotFoundError);
    await expect(attempt).rejects.toThrow(/go install github.com\/temporalio\/cli\/cmd\/temporal@v1\.5\.1/);
  });
});
