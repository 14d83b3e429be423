import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { afterEach, expect } from 'vitest';
import { type PlanManifestInput, createManifestActivities, loadBatchItems } from '../../src/activities/manifest.js';
import type { BatchRange, ItemRecord, PlanResult } from '../../src/schemas/batch.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A fresh temp folder, removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'th-manifest-'));
  dirs.push(dir);
  return dir;
}

export const activities = createManifestActivities();

export function plan(input: Omit<PlanManifestInput, 'config'> & { config?: PlanManifestInput['config'] }): Promise<PlanResult> {
  return activities.humePlanManifest({ config: {}, ...input });
}

export async function readJsonl<T>(path: string): Promise<T[]> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);
}

export async function batchesOf(result: PlanResult): Promise<BatchRange[]> {
  return readJsonl<BatchRange>(result.planPath);
}

/** Every batch's items, loaded the way submit loads them. */
export async function loadAll(result: PlanResult, baseDir: string, config = {}): Promise<ItemRecord[][]> {
  const batches = await batchesOf(result);
  return Promise.all(batches.map((range) => loadBatchItems(result.manifest, range, { baseDir, config })));
}

/** The ApplicationFailure a promise rejects with. */
export async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

export const jsonl = (...items: unknown[]) => items.map((i) => (typeof i === 'string' ? i : JSON.stringify(i))).join('\n') + '\n';
