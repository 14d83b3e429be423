/**
 * A run whose manifest, media files and results live in S3 (a real S3-compatible server,
 * versitygw): the worker reads the manifest by ranged GETs, streams S3 files into Hume's upload,
 * writes every result to the bucket, and leaves nothing on its own disk; a redrive works on the
 * S3 folder as on a local one; a bucket it cannot use is refused before anything is submitted.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redriveRun, startRun } from '../../src/client.js';
import { type S3Server, startS3Server } from '../../src/devserver/s3-server.js';
import { HumeClient } from '../../src/hume/client.js';
import type { HumeBatchInput } from '../../src/schemas/batch.js';
import { createStorage } from '../../src/store/storage.js';
import { API_KEY, type Stack, startStack } from '../helpers/hume-stack.js';
import { serveFolder, writeMixedManifest } from '../helpers/manifests.js';
import { listKeys, readJsonlObject, readObject, uploadFolder } from '../helpers/s3.js';
import { uniqueId } from '../helpers/temporal.js';

const config = { models: { language: {}, prosody: {}, face: {} } };
type IndexRow = { line: number; id: string; status: string; job_id?: string; source_type?: string };

describe('a run on S3', () => {
  let s3: S3Server;
  let stack: Stack;
  let media: Awaited<ReturnType<typeof serveFolder>>;
  let local: string;

  beforeAll(async () => {
    s3 = await startS3Server();
    await s3.createBucket('manifests');
    await s3.createBucket('results');
    stack = await startStack({ storage: createStorage({ s3: s3.client() }) });
    local = mkdtempSync(join(tmpdir(), 's3-run-'));
    media = await serveFolder(join(local, 'media'));
  });
  afterAll(async () => {
    await media?.close();
    await stack?.close();
    await s3?.stop();
  });

  const start = (input: Omit<HumeBatchInput, 'outDir'> & { outDir?: string }, runId = uniqueId('s3')) =>
    startRun(stack.temporal.client, { outDir: 's3://results/runs', runId, config, ...input }, { taskQueue: stack.temporal.taskQueue });

  it('reads an S3 manifest and its S3 files, and writes every result to the bucket: each item once, each upload byte-exact', async () => {
    const manifest = await writeMixedManifest(local, 60, media.url);
    await uploadFolder(s3.client(), 'manifests', 'survey', local);
    const runId = uniqueId('s3');
    const run = await start({ manifest: { path: 's3://manifests/survey/manifest.jsonl' }, limits: { maxFilesPerJob: 7, maxUrlsPerJob: 7, maxTextsPerJob: 7 } }, runId);
    const result = await run.result();
    expect(result.state).toBe('completed');
    expect(result.runDir).toBe(`s3://results/runs/${runId}`);
    expect(result.summary.paths.index).toBe(`s3://results/runs/${runId}/index.jsonl`);

    const index = await readJsonlObject<IndexRow>(s3.client(), 'results', `runs/${runId}/index.jsonl`);
    expect(index.map((row) => row.line)).toEqual(manifest.validLines);
    expect(index.every((row) => row.status === 'completed')).toBe(true);
    const jobIds = [...new Set(index.map((row) => row.job_id as string))];
    const keys = await listKeys(s3.client(), 'results', `runs/${runId}/`);
    for (const jobId of jobIds) expect(keys.some((key) => key.endsWith(`-${jobId}/predictions.json`))).toBe(true);
    expect(keys).toEqual(expect.arrayContaining([`runs/${runId}/summary.json`, `runs/${runId}/run.json`, `runs/${runId}/owner.json`, `runs/${runId}/csv/face.csv`]));
    // Nothing half-written stays behind: no partial outputs, checkpoints or scratch.
    expect(keys.filter((key) => /\.partial|checkpoint|\.tmp/.test(key))).toEqual([]);
    const summary = JSON.parse(await readObject(s3.client(), 'results', `runs/${runId}/summary.json`));
    expect(summary.items).toMatchObject({ completed: manifest.validLines.length, failed: 0 });

    // Hume received each S3 file's exact bytes (its md5 as echoed), under the name that maps it back.
    const hume = new HumeClient({ apiKey: API_KEY, baseUrl: stack.emulator.url });
    const uploaded = new Map<string, string>();
    for (const jobId of jobIds) for (const file of (await hume.getJob(jobId)).request.files ?? []) uploaded.set(String(file.filename), String(file.md5sum));
    const fileRows = index.filter((row) => row.source_type === 'file');
    expect(fileRows.length).toBe(20);
    expect(uploaded.size).toBe(fileRows.length);
    const names = await readdir(join(local, 'media'));
    const md5s = await Promise.all(names.map(async (name) => createHash('md5').update(await readFile(join(local, 'media', name))).digest('hex')));
    expect([...uploaded.values()].every((md5) => md5s.includes(md5))).toBe(true);

    // The worker's disk: no scratch copy of any of the run's downloads is left.
    const scratch = await readdir(join(tmpdir(), 'temporal-hume', 'fetch')).catch(() => [] as string[]);
    const jobFolders = keys.filter((key) => key.endsWith('/predictions.json')).map((key) => `s3://results/${key.slice(0, -'/predictions.json'.length)}`);
    expect(jobFolders).toHaveLength(jobIds.length);
    const ours = jobFolders.map((folder) => createHash('sha256').update(folder).digest('hex').slice(0, 32));
    expect(scratch.filter((name) => ours.includes(name))).toEqual([]);
  });

  it('redrives the failed items of an S3 run into the same S3 folder', async () => {
    const items = Array.from({ length: 20 }, (_, i) => ({ id: `r${i}`, text: `redriven text ${i}` }));
    stack.emulator.failNextJobs(1, 'injected failure');
    const runId = uniqueId('s3-redrive');
    const first = await (await start({ items, maxJobsInFlight: 1, maxJobAttempts: 1, limits: { maxTextsPerJob: 10 } }, runId)).result();
    expect(first.summary.items).toMatchObject({ completed: 10, failed: 10 });
    const second = await (await redriveRun(stack.temporal.client, runId, { taskQueue: stack.temporal.taskQueue })).result();
    expect(second.runDir).toBe(first.runDir);
    expect(second.summary.items).toMatchObject({ completed: 20, failed: 0 });
    const index = await readJsonlObject<IndexRow>(s3.client(), 'results', `runs/${runId}/index.jsonl`);
    expect(index.map((row) => row.id)).toEqual(items.map((item) => item.id));
    expect(index.every((row) => row.status === 'completed')).toBe(true);
  });

  it('refuses a bucket it cannot use before anything is submitted, in one line naming the bucket', async () => {
    const before = stack.emulator.stats().requests.submit;
    const err = await (await start({ items: [{ text: 'never sent' }], outDir: 's3://no-such-bucket/runs' })).result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause?.cause as { type?: string; message?: string } | undefined;
    expect(cause?.type).toBe('STORAGE_UNUSABLE');
    expect(cause?.message).toMatch(/^s3:\/\/no-such-bucket\/runs\/[^\n]*no such bucket/);
    expect(stack.emulator.stats().requests.submit).toBe(before);
  });
});
