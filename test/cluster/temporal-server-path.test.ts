import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveTemporalServer, TEMPORAL_SERVER_VERSION, TemporalServerNotFoundError } from '../../src/devserver/index.js';

function fakeBinary(dir: string, name: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, '#!/bin/sh\n');
  chmodSync(path, 0o755);
  return path;
}

describe('resolveTemporalServer', () => {
  const root = mkdtempSync(join(tmpdir(), 'server-path-'));
  const cacheDir = join(root, 'cache');
  const cached = { server: fakeBinary(cacheDir, 'server'), sqlTool: fakeBinary(cacheDir, 'sql') };
  const explicit = { server: fakeBinary(join(root, 'explicit'), 'server'), sqlTool: fakeBinary(join(root, 'explicit'), 'sql') };
  const noop = () => {};
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  // Go's own variables kept (it finds its module cache through them), any override of ours dropped.
  const env = { ...process.env, TEMPORAL_SERVER_PATH: undefined, TEMPORAL_SQL_TOOL_PATH: undefined };

  it('takes the cache, and the PostgreSQL schemas from the server module in Go’s module cache', async () => {
    const found = await resolveTemporalServer({ env, cacheDir, build: false, log: noop });
    expect(found).toMatchObject(cached);
    expect(found.postgresSchemaDir).toContain(`go.temporal.io/server@${TEMPORAL_SERVER_VERSION}`);
    expect(existsSync(join(found.postgresSchemaDir, 'temporal', 'versioned', 'v1.0'))).toBe(true);
    expect(existsSync(join(found.postgresSchemaDir, 'visibility', 'versioned', 'v1.0'))).toBe(true);
  });

  it('prefers TEMPORAL_SERVER_PATH and TEMPORAL_SQL_TOOL_PATH to the cache', async () => {
    const overridden = { ...env, TEMPORAL_SERVER_PATH: explicit.server, TEMPORAL_SQL_TOOL_PATH: explicit.sqlTool };
    expect(await resolveTemporalServer({ env: overridden, cacheDir, build: false, log: noop })).toMatchObject(explicit);
  });

  it('refuses an override that is not executable, naming it', async () => {
    const overridden = { ...env, TEMPORAL_SQL_TOOL_PATH: join(root, 'nope') };
    await expect(resolveTemporalServer({ env: overridden, cacheDir, build: false, log: noop })).rejects.toThrow(/^TEMPORAL_SQL_TOOL_PATH=.*nope is not an executable file$/);
  });

  it('without binaries and without building, says where it looked and how to build them', async () => {
    const empty = join(root, 'empty');
    const failure = resolveTemporalServer({ env, cacheDir: empty, build: false, log: noop });
    await expect(failure).rejects.toThrow(TemporalServerNotFoundError);
    await expect(failure).rejects.toThrow(`GOBIN=${empty} go install go.temporal.io/server/cmd/server@${TEMPORAL_SERVER_VERSION}`);
  });
});
