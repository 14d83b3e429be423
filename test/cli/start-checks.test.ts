/**
 * Checks before anything starts, through the real bin and without a Temporal server: `run`'s
 * Hume preflight retrying what may pass, `worker` refusing in one line what will not, and a
 * manifest of no items refused. One test at a time: each spawns a few CLIs on a shared machine.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HumeEmulator, startHumeEmulator } from '../../src/emulator/index.js';
import { runCli } from '../helpers/spawn.js';
import { cleanEnv, expectOneLine } from './helpers.js';

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A Hume that answers `failures` requests with `status` (and `Retry-After` when given), then
 * passes requests on to `target`; `requests` counts what reached it.
 */
async function flakyHume(target: string, failures: number, status: number, retryAfter?: string) {
  const seen = { requests: 0, at: [] as number[] };
  const server: Server = createHttpServer((req, res) => {
    seen.requests++;
    seen.at.push(Date.now());
    if (seen.requests <= failures) {
      res.writeHead(status, { 'content-type': 'application/json', ...(retryAfter ? { 'retry-after': retryAfter } : {}) });
      res.end('{"message":"try later"}');
      return;
    }
    const upstream = httpRequest(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe('temporal-hume start checks (no Temporal server)', { timeout: 180_000 }, () => {
  let dir: string;
  let manifest: string;
  let hume: HumeEmulator;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cli-checks-'));
    manifest = join(dir, 'manifest.jsonl');
    writeFileSync(manifest, `${JSON.stringify({ id: 'a', text: 'Lovely.' })}\n`);
    hume = await startHumeEmulator({ apiKey: 'the-right-key-1234' });
  });
  afterAll(() => hume.close());

  it('refuses a manifest with no items (2), in a dry run as in a run', async () => {
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '\n\n');
    expectOneLine(await runCli(['run', empty, '--dry-run'], cleanEnv()), 2, new RegExp(`the manifest ${empty} has no items$`));
  });

  it('preflight retries what may pass (503, 429 after its Retry-After) and fails a 401 at once', async () => {
    const temporal = { TEMPORAL_ADDRESS: `127.0.0.1:${await closedPort()}` };
    const [unavailable, throttled, rejected] = await Promise.all([
      flakyHume(hume.url, 2, 503),
      flakyHume(hume.url, 1, 429, '1'),
      flakyHume(hume.url, 100, 401),
    ]);
    try {
      const key = { HUME_API_KEY: 'the-right-key-1234' };
      const [a, b, c] = await Promise.all([
        runCli(['run', manifest], cleanEnv({ ...temporal, ...key, HUME_BASE_URL: unavailable.url })),
        runCli(['run', manifest], cleanEnv({ ...temporal, ...key, HUME_BASE_URL: throttled.url })),
        runCli(['run', manifest], cleanEnv({ ...temporal, ...key, HUME_BASE_URL: rejected.url })),
      ]);
      // Hume passed the check in the end: what stops these runs is Temporal, not there.
      expectOneLine(a, 1, /cannot reach Temporal at /);
      expect(unavailable.seen.requests).toBe(3);
      expectOneLine(b, 1, /cannot reach Temporal at /);
      expect(throttled.seen.requests).toBe(2);
      expect((throttled.seen.at[1] ?? 0) - (throttled.seen.at[0] ?? 0)).toBeGreaterThanOrEqual(900);
      expectOneLine(c, 1, new RegExp(`Hume rejected the API key \\(401\\) at ${rejected.url}: check HUME_API_KEY$`));
      expect(rejected.seen.requests).toBe(1);
    } finally {
      await Promise.all([unavailable.close(), throttled.close(), rejected.close()]);
    }
  });

  it('worker: refuses to start in one line on a rejected key, an unwritable results root, or no Temporal', async () => {
    const address = `127.0.0.1:${await closedPort()}`;
    const notAFolder = join(dir, 'not-a-folder');
    writeFileSync(notAFolder, 'a file');
    const base = { TEMPORAL_ADDRESS: address, HUME_BASE_URL: hume.url, HUME_API_KEY: 'the-right-key-1234' };
    const [badKey, badRoot, noTemporal, missingKey] = await Promise.all([
      runCli(['worker'], cleanEnv({ ...base, HUME_API_KEY: 'a-wrong-key-5678' })),
      runCli(['worker'], cleanEnv({ ...base, HUME_RESULTS_ROOT: join(notAFolder, 'results') })),
      runCli(['worker'], cleanEnv(base)),
      runCli(['worker'], cleanEnv({ TEMPORAL_ADDRESS: address })),
    ]);
    expectOneLine(badKey, 1, new RegExp(`worker not started: Hume rejected the API key \\(401\\) at ${hume.url}: check HUME_API_KEY$`));
    expect(badKey.stderr).not.toContain('a-wrong-key-5678');
    expectOneLine(badRoot, 2, new RegExp(`worker not started: the results root ${notAFolder}/results \\(HUME_RESULTS_ROOT\\) is not writable: .*ENOTDIR`));
    expectOneLine(noTemporal, 1, new RegExp(`cannot reach Temporal at ${address} \\(Connection refused\\)$`));
    expect(noTemporal.stderr).not.toContain('tonic');
    expectOneLine(missingKey, 2, /HUME_API_KEY is not set/);
  });

  it('worker: Hume not answering is retried, then only warned about; the worker goes on starting', async () => {
    const address = `127.0.0.1:${await closedPort()}`;
    const humeDown = `http://127.0.0.1:${await closedPort()}`;
    const result = await runCli(['worker'], cleanEnv({ TEMPORAL_ADDRESS: address, HUME_BASE_URL: humeDown, HUME_API_KEY: 'some-key-5678' }));
    expect(result.code).toBe(1);
    const lines = result.stderr.trimEnd().split('\n');
    const warnings = lines.slice(0, -1).map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(warnings.map((w) => w.msg)).toEqual([
      `cannot reach Hume at ${humeDown} (ECONNREFUSED); trying again in 500 ms`,
      `cannot reach Hume at ${humeDown} (ECONNREFUSED); trying again in 1000 ms`,
      `cannot reach Hume at ${humeDown} (ECONNREFUSED); trying again in 2000 ms`,
      `cannot reach Hume at ${humeDown} (ECONNREFUSED): starting anyway; jobs wait until Hume answers`,
    ]);
    expect(warnings.every((w) => w.level === 40)).toBe(true);
    // It went on to Temporal, which is not there either.
    expect(lines.at(-1)).toBe(`temporal-hume: cannot reach Temporal at ${address} (Connection refused)`);
  });
});
