/**
 * The `temporal-hume` bin without a Temporal server: `--help`, `run --dry-run`, and every error a
 * person can meet before a run starts, each one line on stderr with its exit code and no stack.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeError } from '../../src/cli/errors.js';
import { buildProgram } from '../../src/cli/program.js';
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

describe.concurrent('temporal-hume (no Temporal server)', () => {
  let dir: string;
  let manifest: string;
  let hume: HumeEmulator;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cli-'));
    manifest = join(dir, 'manifest.jsonl');
    const lines = [{ id: 'a', text: 'Lovely.' }, { id: 'b', text: '' }, { id: 'c', url: 'https://example.com/c.wav' }, { id: 'd', bogus: 1 }];
    writeFileSync(manifest, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    hume = await startHumeEmulator({ apiKey: 'the-right-key-1234' });
  });
  afterAll(() => hume.close());

  it('has --help on every command, exiting 0', async () => {
    const program = buildProgram();
    const names = program.commands.map((c) => c.name());
    expect(names).toEqual(expect.arrayContaining(['run', 'status', 'pause', 'resume', 'cancel', 'results', 'webhook', 'worker']));
    for (const name of names) {
      let out = '';
      const fresh = buildProgram();
      for (const cmd of [fresh, ...fresh.commands]) cmd.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
      const err = await fresh.parseAsync(['node', 'temporal-hume', name, '--help']).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CommanderError);
      expect(describeError(err).exitCode, name).toBe(0);
      expect(out).toContain(`Usage: temporal-hume ${name}`);
    }
    const spawned = await runCli(['run', '--help'], cleanEnv());
    expect(spawned.code).toBe(0);
    expect(spawned.stdout).toContain('--models <models>');
  });

  it('--dry-run plans without any server and lists every invalid line; exits 2 when the run would be refused', async () => {
    const refused = await runCli(['run', manifest, '--dry-run', '--models', 'language,prosody'], cleanEnv());
    expect(refused.code).toBe(2);
    expect(refused.stdout).toMatch(/^items +4 \(2 valid, 2 invalid\)$/m);
    expect(refused.stdout).toMatch(/^Hume jobs +1$/m);
    expect(refused.stdout).toMatch(/^ +line 2: text: .*$/m);
    expect(refused.stdout).toMatch(/^ +line 4: .*bogus.*$/m);
    expectOneLine(refused, 2, /the run would be refused: 2 invalid line\(s\)/);

    const skipped = await runCli(['run', manifest, '--dry-run', '--skip-invalid', '--json'], cleanEnv());
    expect(skipped.code, skipped.stderr).toBe(0);
    const plan = JSON.parse(skipped.stdout) as Record<string, unknown>;
    expect(plan).toMatchObject({ items: 4, validItems: 2, invalidCount: 2, jobs: 1, wouldRun: true });
    expect((plan.invalid as Array<{ line: number }>).map((l) => l.line)).toEqual([2, 4]);
  });

  it('refuses a missing manifest (2)', async () => {
    expectOneLine(await runCli(['run', join(dir, 'nope.jsonl')], cleanEnv()), 2, /manifest not found: .*nope\.jsonl$/);
  });

  it('refuses invalid --models, by name and as JSON (2)', async () => {
    const [byName, byJson] = await Promise.all([
      runCli(['run', manifest, '--models', 'language,langauge'], cleanEnv()),
      runCli(['run', manifest, '--models', '{"language":{"granularity":"paragraph"}}'], cleanEnv()),
    ]);
    expectOneLine(byName, 2, /invalid --models: unknown model "langauge" \(choose from face, burst, prosody, language, ner, facemesh\)$/);
    expectOneLine(byJson, 2, /invalid --models: models\.language\.granularity: /);
  });

  it('reports commander usage errors with exit 2', async () => {
    const result = await runCli(['run', manifest, '--max-jobs-in-flight', 'lots'], cleanEnv());
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: option '--max-jobs-in-flight <n>' argument 'lots' is invalid/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('fails fast on an unreachable Temporal server (1), with the stack only under --verbose', async () => {
    const address = `127.0.0.1:${await closedPort()}`;
    const started = Date.now();
    const [plain, verbose] = await Promise.all([
      runCli(['run', manifest, '--models', 'language'], cleanEnv({ TEMPORAL_ADDRESS: address })),
      runCli(['status', 'some-run', '--address', address, '--verbose'], cleanEnv()),
    ]);
    expectOneLine(plain, 1, new RegExp(`cannot reach Temporal at ${address} \\(.+\\)$`));
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(new RegExp(`^temporal-hume: cannot reach Temporal at ${address}`));
    expect(verbose.stderr).toMatch(/\n\s+at /);
  });

  it('checks Hume before starting: unreachable base URL and rejected key (1)', async () => {
    const humeDown = `http://127.0.0.1:${await closedPort()}`;
    // Temporal would be unreachable too: the Hume check comes first.
    const temporal = { TEMPORAL_ADDRESS: `127.0.0.1:${await closedPort()}` };
    const [down, badKey] = await Promise.all([
      runCli(['run', manifest], cleanEnv({ ...temporal, HUME_API_KEY: 'some-key-5678', HUME_BASE_URL: humeDown })),
      runCli(['run', manifest], cleanEnv({ ...temporal, HUME_API_KEY: 'a-wrong-key-5678', HUME_BASE_URL: hume.url })),
    ]);
    expectOneLine(down, 1, new RegExp(`cannot reach Hume at ${humeDown} \\(ECONNREFUSED\\)$`));
    expectOneLine(badKey, 1, /Hume rejected the API key \(401\)/);
    expect(badKey.stderr).not.toContain('a-wrong-key-5678');
  });
});
