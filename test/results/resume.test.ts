/**
 * A finalize killed halfway (SIGKILL, in a process of its own) continues from its checkpoint: the
 * retry copies only the rows the checkpoint did not have, drops whatever was written after it,
 * and ends with files byte-identical to those of a finalize that was never interrupted.
 */
import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FinalizeInput } from '../../src/activities/finalize.js';
import { type S3Server, startS3Server } from '../../src/devserver/s3-server.js';
import type { RunSummary } from '../../src/results/summary.js';
import { listKeys, readObject, uploadFolder } from '../helpers/s3.js';
import { finalize, item, manifestLine, mapSources, range, textResult, writeRun, type RunFixture } from './helpers.js';

const BATCHES = 12;
const ITEMS_PER_BATCH = 4;
const KILLED_AFTER = 5;
const CHILD = fileURLToPath(new URL('./activity-child.ts', import.meta.url));
/** Files both folders must hold byte for byte. */
const COMPARED = ['index.jsonl', 'summary.json', 'csv/language.csv', 'csv/ner.csv'];

let dir: string;
let reference: { input: FinalizeInput; summary: RunSummary };
let resumed: FinalizeInput;
let s3: S3Server | undefined;

/** Texts with quotes and a line break inside a word, so CSV cells span lines. */
const textOf = (line: number) => `Item ${line} says "hello"\nthere, Bob ${'and more words '.repeat(line % 5)}`.trim();

function fixture(): RunFixture {
  const items = Array.from({ length: BATCHES * ITEMS_PER_BATCH }, (_, i) =>
    item(i + 1, 'text', textOf(i + 1), `t${i + 1}`, i % 3 === 0 ? { site: `s${i % 4}`, n: i } : undefined));
  const ranges = Array.from({ length: BATCHES }, (_, b) => range(b, b * ITEMS_PER_BATCH + 1, (b + 1) * ITEMS_PER_BATCH, ITEMS_PER_BATCH));
  return {
    manifest: items.map(manifestLine),
    ranges,
    invalid: [],
    jobs: ranges.map((r) => {
      const predictions = items.slice(r.fromLine - 1, r.toLine).map((i) => textResult(i.value));
      return {
        outcome: { batch: r.index, jobId: `job-${r.index}`, status: 'COMPLETED' as const, predictionsPath: `jobs/${r.index}-job-${r.index}/predictions.json`, items: mapSources(predictions, items.slice(r.fromLine - 1, r.toLine)) },
        predictions,
      };
    }),
  };
}

function runChild(task: unknown, name: string, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const path = join(dir, `${name}.json`);
    writeFile(path, JSON.stringify(task)).then(() => {
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path], { stdio: 'pipe', env });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.once('exit', (code, signal) => resolve({ code, signal, out, err }));
    }, reject);
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'finalize-resume-'));
  const input = await writeRun(join(dir, 'uninterrupted'), fixture());
  reference = { input, summary: await finalize(input) };
  resumed = await writeRun(join(dir, 'resumed'), fixture());
}, 120_000);
afterAll(async () => {
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

it(`continues a finalize killed after ${KILLED_AFTER} of ${BATCHES} batches from its checkpoint, with the same files in the end`, async () => {
  // Items are loaded once per batch for the meta columns, then once per batch written.
  const killed = await runChild({ kind: 'finalize', finalize: resumed, killAtLoad: BATCHES + KILLED_AFTER + 1 }, 'killed');
  expect(killed.signal, killed.err).toBe('SIGKILL');
  const checkpoint = JSON.parse(await readFile(join(resumed.runDir, 'finalize.checkpoint.json'), 'utf8')) as {
    batches: number; output: { csv: Record<string, { rows: number }> };
  };
  expect(checkpoint.batches).toBe(KILLED_AFTER);
  const savedRows = Object.values(checkpoint.output.csv).reduce((sum, csv) => sum + csv.rows, 0);
  expect(savedRows).toBeGreaterThan(0);
  // As if the process had died mid-write: bytes after the checkpoint, which the retry must drop.
  await appendFile(join(resumed.runDir, 'index.jsonl.partial'), '{"torn":');
  await appendFile(join(resumed.runDir, 'csv', 'language.csv.partial'), 't1,1,job-0,"half a row');

  const retried = await runChild({ kind: 'finalize', finalize: resumed }, 'retried');
  expect(retried.code, retried.err).toBe(0);
  const { summary } = JSON.parse(retried.out.trim().split('\n').at(-1)!) as { summary: RunSummary };
  const allRows = Object.values(reference.summary.csv).reduce((sum, rows) => sum + rows, 0);
  expect(reference.summary.rowsCopied).toBe(allRows);
  expect(summary.rowsCopied).toBe(allRows - savedRows);
  expect(summary.csv).toEqual(reference.summary.csv);

  for (const path of COMPARED) {
    expect(await readFile(join(resumed.runDir, path), 'utf8'), path).toBe(await readFile(join(reference.input.runDir, path), 'utf8'));
  }
  const left = [...(await readdir(resumed.runDir, { recursive: true }))].filter((p) => p.endsWith('.partial') || p.endsWith('.tmp') || p.includes('checkpoint'));
  expect(left).toEqual([]);
}, 300_000);

it('checkpoints only once checkpointEveryMs has passed: killed before that, the retry starts over and ends with the same files', async () => {
  const input = await writeRun(join(dir, 'unsaved'), fixture());
  const killed = await runChild({ kind: 'finalize', finalize: input, killAtLoad: BATCHES + KILLED_AFTER + 1, checkpointEveryMs: 3_600_000 }, 'unsaved-killed');
  expect(killed.signal, killed.err).toBe('SIGKILL');
  expect((await readdir(input.runDir)).filter((name) => name.includes('checkpoint'))).toEqual([]);

  const retried = await runChild({ kind: 'finalize', finalize: input }, 'unsaved-retried');
  expect(retried.code, retried.err).toBe(0);
  const { summary } = JSON.parse(retried.out.trim().split('\n').at(-1)!) as { summary: RunSummary };
  expect(summary.rowsCopied).toBe(reference.summary.rowsCopied);
  for (const path of COMPARED) {
    expect(await readFile(join(input.runDir, path), 'utf8'), path).toBe(await readFile(join(reference.input.runDir, path), 'utf8'));
  }
}, 300_000);

it('continues a finalize of an S3 folder killed halfway, from its checkpoint and the parts it saved, with the same objects in the end', async () => {
  s3 = await startS3Server();
  await s3.createBucket('results');
  const local = await writeRun(join(dir, 's3-source'), fixture());
  await uploadFolder(s3.client(), 'results', 'run', local.runDir);
  const at = (path: string) => `s3://results/run/${relative(local.runDir, path)}`;
  // The results folder in S3; the manifest stays where the fixture's item loader reads it.
  const input: FinalizeInput = { ...local, runDir: 's3://results/run', plan: { ...local.plan, planPath: at(local.plan.planPath) } };
  // The child finds S3 as a worker does: through AWS_* variables only.
  const env = { ...process.env, ...s3.env() };

  const killed = await runChild({ kind: 'finalize', finalize: input, killAtLoad: BATCHES + KILLED_AFTER + 1 }, 's3-killed', env);
  expect(killed.signal, killed.err).toBe('SIGKILL');
  const checkpoint = JSON.parse(await readObject(s3.client(), 'results', 'run/finalize.checkpoint.json')) as { batches: number };
  expect(checkpoint.batches).toBe(KILLED_AFTER);
  // The outputs are not there yet, only their unfinished uploads.
  expect(await listKeys(s3.client(), 'results', 'run/index.jsonl')).not.toContain('run/index.jsonl');

  const retried = await runChild({ kind: 'finalize', finalize: input }, 's3-retried', env);
  expect(retried.code, retried.err).toBe(0);
  const { summary } = JSON.parse(retried.out.trim().split('\n').at(-1)!) as { summary: RunSummary };
  expect(summary.csv).toEqual(reference.summary.csv);
  expect(summary.rowsCopied).toBeLessThan(reference.summary.rowsCopied!);
  for (const path of COMPARED) {
    expect(await readObject(s3.client(), 'results', `run/${path}`), path).toBe(await readFile(join(reference.input.runDir, path), 'utf8'));
  }
  const left = (await listKeys(s3.client(), 'results', 'run/')).filter((key) => key.includes('.partial') || key.includes('checkpoint'));
  expect(left).toEqual([]);
}, 300_000);
