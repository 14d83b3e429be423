/**
 * A small synthetic run on disk: a JSONL manifest, plan.jsonl, invalid.jsonl and per-job
 * outcomes and predictions in Hume's shapes (made by the emulator's own generator).
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { writeBatchOutcome } from '../../src/results/outcome.js';
import { createFinalizeActivities, type FinalizeDeps, type FinalizeInput, type RunSummary } from '../../src/activities/finalize.js';
import { mediaKind, urlFileName } from '../../src/emulator/media.js';
import { predictSource } from '../../src/emulator/predictions.js';
import { echoRequest, parseBaseRequest } from '../../src/emulator/request.js';
import { HUME_LIMITS } from '../../src/hume/limits.js';
import { SourcePredictResult, type Predictions } from '../../src/hume/schemas.js';
import type { BatchOutcome, BatchRange, InvalidLine, ItemRecord, PlanResult } from '../../src/schemas/batch.js';

/** Every model, with sentiment and toxicity, as a run's shared config would ask. */
export const ALL_MODELS = { face: {}, burst: {}, prosody: {}, language: { sentiment: {}, toxicity: {} }, ner: {}, facemesh: {} };
const request = echoRequest(parseBaseRequest({ models: ALL_MODELS, text: ['x'] }), [], { ...HUME_LIMITS });

/** Emulator output parsed with the client's own schema, as the results activity stores it. */
const parsed = (result: unknown): SourcePredictResult => SourcePredictResult.parse(result);

export const urlResult = (url: string) =>
  parsed(predictSource({ source: { type: 'url', url }, file: urlFileName(url), kind: mediaKind(url), contentKey: url }, request));
export const textResult = (text: string) =>
  parsed(predictSource({ source: { type: 'text' }, file: 'text', kind: 'text', contentKey: text, text }, request));
export const fileResult = (filename: string) =>
  parsed(predictSource({ source: { type: 'file', filename, content_type: null, md5sum: filename }, file: filename, kind: mediaKind(filename), contentKey: filename }, request));
export const failedUrl = (url: string, error: string) => parsed({ source: { type: 'url', url }, error });

export function item(line: number, kind: ItemRecord['kind'], value: string, id = `line-${line}`, metadata?: Record<string, unknown>): ItemRecord {
  return { line, id, kind, value, bytes: kind === 'url' ? 0 : Buffer.byteLength(value), ...(metadata ? { metadata } : {}) };
}

/** The manifest line of an item: `{id, url|file|text, metadata?}`. */
export const manifestLine = (i: ItemRecord): string => JSON.stringify({ id: i.id, [i.kind]: i.value, metadata: i.metadata });

/** Reads items back the simplest way: a line is valid when it has exactly one string source; an object `metadata` is kept. */
export const jsonlLoader: FinalizeDeps['loadItems'] = async (manifest, range) => {
  const lines = (await readFile(manifest.path, 'utf8')).split('\n');
  const items: ItemRecord[] = [];
  for (let line = range.fromLine; line <= range.toLine; line++) {
    const value = JSON.parse(lines[line - 1] ?? '{}') as Record<string, unknown>;
    const kinds = (['url', 'file', 'text'] as const).filter((k) => typeof value[k] === 'string');
    const kind = kinds[0];
    if (kinds.length !== 1 || !kind) continue;
    const metadata = typeof value.metadata === 'object' && value.metadata !== null ? (value.metadata as Record<string, unknown>) : undefined;
    items.push(item(line, kind, value[kind] as string, typeof value.id === 'string' ? value.id : `line-${line}`, metadata));
  }
  return items;
};

export function range(index: number, fromLine: number, toLine: number, items: number): BatchRange {
  return { index, fromLine, toLine, byteStart: 0, byteEnd: 0, sliceSha256: '0'.repeat(64), items, urls: 0, texts: 0, files: 0, uploadBytes: 0 };
}

export interface RunFixture {
  manifest: string[];
  ranges: BatchRange[];
  invalid: InvalidLine[];
  jobs: Array<{ outcome: BatchOutcome; predictions?: Predictions | string }>;
}

/** Writes the fixture under `runDir` the way the run's activities would; returns finalize's input. */
export async function writeRun(runDir: string, fixture: RunFixture): Promise<FinalizeInput> {
  await mkdir(runDir, { recursive: true });
  const manifestPath = join(runDir, 'manifest.jsonl');
  await writeFile(manifestPath, `${fixture.manifest.join('\n')}\n`);
  const planPath = join(runDir, 'plan.jsonl');
  await writeFile(planPath, fixture.ranges.map((r) => `${JSON.stringify(r)}\n`).join(''));
  if (fixture.invalid.length > 0) await writeFile(join(runDir, 'invalid.jsonl'), fixture.invalid.map((l) => `${JSON.stringify(l)}\n`).join(''));
  for (const { outcome, predictions } of fixture.jobs) {
    if (predictions !== undefined && outcome.predictionsPath) {
      await mkdir(join(runDir, outcome.predictionsPath, '..'), { recursive: true });
      await writeFile(join(runDir, outcome.predictionsPath), typeof predictions === 'string' ? predictions : JSON.stringify(predictions));
    }
    await writeBatchOutcome(runDir, outcome);
  }
  const plan: PlanResult = {
    manifest: { path: manifestPath, format: 'jsonl', sha256: 'f'.repeat(64) },
    items: fixture.manifest.length,
    validItems: fixture.manifest.length - fixture.invalid.length,
    invalidCount: fixture.invalid.length,
    invalid: fixture.invalid,
    batches: fixture.ranges.length,
    uploadBytes: 0,
    planPath,
  };
  return {
    runDir,
    runId: 'run-1',
    plan,
    validation: { config: { models: ALL_MODELS } },
    run: {
      input: { outDir: '/out', config: { models: ALL_MODELS }, skipInvalid: true },
      startedAt: Date.UTC(2026, 0, 1),
      finishedAt: Date.UTC(2026, 0, 1, 0, 10),
      state: 'completed',
      humeJobsCreated: 5,
      resubmissions: 1,
    },
  };
}

export function finalize(input: FinalizeInput): Promise<RunSummary> {
  const { humeFinalizeRun } = createFinalizeActivities({ loadItems: jsonlLoader });
  return new MockActivityEnvironment().run(humeFinalizeRun, input) as Promise<RunSummary>;
}

/** sha256 of every file under `dir`, by relative path. */
export async function hashTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out[relative(dir, path)] = createHash('sha256').update(await readFile(path)).digest('hex');
  }
  return out;
}

export async function readJsonl(path: string): Promise<Record<string, unknown>[]> {
  return (await readFile(path, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}
