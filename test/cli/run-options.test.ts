/**
 * `run`'s options are checked by the run's own schema before anything starts, dry run or not: one
 * line naming the flag, exit 2. And the progress symbols are explained where they are drawn.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/spawn.js';
import { cleanEnv, expectOneLine } from './helpers.js';

describe('temporal-hume run options (no Temporal server)', () => {
  let manifest: string;
  // Nothing listens there: a run that got past validation would fail to connect (exit 1), not exit 2.
  const env = cleanEnv({ TEMPORAL_ADDRESS: '127.0.0.1:1' });

  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-options-'));
    manifest = join(dir, 'manifest.jsonl');
    const lines = Array.from({ length: 5 }, (_, i) => JSON.stringify({ id: `t${i}`, text: `text ${i}` }));
    writeFileSync(manifest, `${lines.join('\n')}\n`);
  });

  it.each([
    [['--max-jobs-in-flight', '501'], /invalid --max-jobs-in-flight: Too big: expected number to be <=500$/],
    [['--run-id', 'bad id'], /invalid --run-id: letters, digits, dot, dash and underscore only$/],
  ])('refuses %j in one line naming the flag, exit 2, with and without --dry-run', async (flags, pattern) => {
    const [dry, real] = await Promise.all([
      runCli(['run', manifest, '--dry-run', ...flags], env),
      runCli(['run', manifest, '--models', 'language', ...flags], env),
    ]);
    expectOneLine(dry, 2, pattern);
    expectOneLine(real, 2, pattern);
  });

  it('names every bad flag in the one line', async () => {
    const bad = [
      ['--max-job-attempts', '21', 'Too big: expected number to be <=20'],
      ['--max-failed-percent', '101', 'Too big: expected number to be <=100'],
      ['--texts-per-job', '101', 'Too big: expected number to be <=100'],
      ['--urls-per-job', '0', 'Too small: expected number to be >=1'],
      ['--files-per-job', '200', 'Too big: expected number to be <=100'],
      ['--first-poll-after', 'soon', "a duration such as '30 seconds' or '3 minutes'"],
      ['--max-poll-interval', '-5', "a duration such as '30 seconds' or '3 minutes'"],
      ['--max-job-duration', 'forever', "a duration such as '30 seconds' or '3 minutes'"],
      ['--pause-after-failed-batches', '-1', 'Too small: expected number to be >=0'],
    ];
    const result = await runCli(['run', manifest, '--dry-run', ...bad.flatMap(([flag, value]) => [flag!, value!])], env);
    expectOneLine(result, 2, /^temporal-hume: invalid --/);
    const named = result.stderr.trim().replace(/^temporal-hume: /, '').split('; ');
    expect(named.sort()).toEqual(bad.map(([flag, , message]) => `invalid ${flag}: ${message}`).sort());
  });

  it('--dry-run plans with the lower per-job limits and accepts the new options', async () => {
    const result = await runCli(
      [
        'run', manifest, '--dry-run', '--json', '--texts-per-job', '2', '--max-job-attempts', '5', '--max-failed-percent', '12.5',
        '--first-poll-after', '30 seconds', '--max-poll-interval', '60000', '--max-job-duration', '2 hours',
        '--pause-after-failed-batches', '0', '--artifacts', '--search-attributes', '--run-id', 'fine-id_1.2',
      ],
      env,
    );
    expect(result.code, result.stderr).toBe(0);
    // Five texts at two per job.
    expect(JSON.parse(result.stdout)).toMatchObject({ items: 5, validItems: 5, jobs: 3, wouldRun: true });
  });

  it('refuses a bad resize or redrive window before connecting (2)', async () => {
    const [resize, redrive, redriveRange] = await Promise.all([
      runCli(['resize', 'some-run', '501'], env),
      runCli(['resize', 'some-run', 'many'], env),
      runCli(['redrive', 'some-run', '--max-jobs-in-flight', '501'], env),
    ]);
    expectOneLine(resize, 2, /invalid <max-jobs-in-flight>: an integer from 1 to 500, got "501"$/);
    expectOneLine(redrive, 2, /invalid <max-jobs-in-flight>: an integer from 1 to 500, got "many"$/);
    expectOneLine(redriveRange, 2, /invalid --max-jobs-in-flight: Too big: expected number to be <=500$/);
  });

  it('explains the progress symbols in the --help of run and status', async () => {
    for (const command of ['run', 'status']) {
      const help = await runCli([command, '--help'], env);
      expect(help.code, help.stderr).toBe(0);
      for (const symbol of ['✓', '✗', '⟳', '…']) expect(help.stdout).toMatch(new RegExp(`^ +${symbol} +\\S`, 'm'));
    }
  });
});
