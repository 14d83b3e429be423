/**
 * A small synthetic run on disk: a JSONL manifest, plan.jsonl, invalid.jsonl and per-job
 * outcomes and predictions in Hume's shapes (seeded, so every call gives the same).
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { writeBatchOutcome } from '../../src/results/outcome.js';
import { createFinalizeActivities, type FinalizeDeps, type FinalizeInput, type RunSummary } from '../../src/activities/finalize.js';
import { mediaKind, urlFileName } from '../../src/emulator/media.js';
import { BURST_DESCRIPTIONS, EXPRESSIONS_48, EXPRESSIONS_53, SENTIMENT, TOXICITY } from '../../src/emulator/names.js';
import { type ModelName, SourcePredictResult, type Predictions } from '../../src/hume/schemas.js';
import { outcomeItems, SourceMatcher, type SourceReturn } from '../../src/results/mapping.js';
import type { BatchOutcome, BatchRange, InvalidLine, ItemRecord, PlanResult } from '../../src/schemas/batch.js';
import { createFsStore } from '../../src/store/fs.js';

/** Every model, with sentiment and toxicity, as a run's shared config would ask. */
export const ALL_MODELS = { face: {}, burst: {}, prosody: {}, language: { sentiment: {}, toxicity: {} }, ner: {}, facemesh: {} };

/** Seeded scores in [0, 1), so a source's predictions are the same on every call. */
function scorer(seed: string): () => number {
  let h = 2166136261;
  for (const c of seed) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return () => {
    h = (Math.imul(h, 1664525) + 1013904223) >>> 0;
    return Math.round((h / 2 ** 32) * 1e6) / 1e6;
  };
}
const scores = (next: () => number, names: readonly string[]) => names.map((name) => ({ name, score: next() }));
function distribution(next: () => number, names: readonly string[]) {
  const raw = names.map(() => next() + 0.01);
  const total = raw.reduce((a, b) => a + b, 0);
  return names.map((name, i) => ({ name, score: raw[i]! / total }));
}

/** Which models apply to a kind of media, as Hume (and the emulator) apply them. */
const APPLIES: Record<string, readonly ModelName[]> = {
  image: ['face', 'facemesh'], audio: ['burst', 'prosody', 'language', 'ner'], video: ['face', 'facemesh', 'burst', 'prosody', 'language', 'ner'], text: ['language', 'ner'],
};
const MEDIA_WORDS = 'hello there world';

/** Hume's predictions for one file, in Hume's shapes: one face, words of the transcript (or text), its capitalised words as entities. */
function predictFile(file: string, kind: string, words: string[], seed: string) {
  const next = scorer(seed);
  const media = kind !== 'text';
  let at = 0;
  const spans = words.map((word) => {
    const begin = at;
    at += [...word].length + 1;
    return { word, position: { begin, end: begin + [...word].length }, time: media ? { begin: begin / 10, end: (begin + 4) / 10 } : null };
  });
  const group = (predictions: unknown[]) => ({ metadata: null, grouped_predictions: [{ id: 'unknown', predictions }] });
  const build: Record<ModelName, () => unknown> = {
    face: () => group([{ frame: 0, time: 0, prob: next(), box: { x: 10, y: 20, w: 30, h: 40 }, emotions: scores(next, EXPRESSIONS_48), facs: null, descriptions: null }]),
    facemesh: () => group([{ emotions: scores(next, EXPRESSIONS_48) }]),
    burst: () => group([{ time: { begin: 0, end: 1 }, emotions: scores(next, EXPRESSIONS_48), descriptions: scores(next, BURST_DESCRIPTIONS) }]),
    prosody: () => group([{ text: words.join(' '), time: { begin: 0, end: 2 }, confidence: next(), speaker_confidence: null, emotions: scores(next, EXPRESSIONS_48) }]),
    language: () => group(spans.map((s) => ({
      text: s.word, position: s.position, time: s.time, confidence: next(), speaker_confidence: null,
      emotions: scores(next, EXPRESSIONS_53), sentiment: distribution(next, SENTIMENT), toxicity: scores(next, TOXICITY),
    }))),
    ner: () => group(spans.filter((s) => /^[A-Z]/.test(s.word)).map((s) => {
      const entity = s.word.replace(/[^\p{L}\p{N}]/gu, '');
      return { entity, position: s.position, entity_confidence: next(), support: next(), uri: `https://x.test/wiki/${entity}`, link_word: entity, time: s.time, confidence: next(), speaker_confidence: null, emotions: scores(next, EXPRESSIONS_53) };
    })),
  };
  const models = Object.fromEntries((APPLIES[kind] ?? []).map((model) => [model, build[model]()]));
  return { file, file_type: kind, models };
}

/** Parsed with the client's own schema, as the results activity would read it. */
const parsed = (result: unknown): SourcePredictResult => SourcePredictResult.parse(result);
/** A media source; an archive comes back as the emulator returns one: not expanded, a per-file error. */
function media(source: Record<string, unknown>, file: string, seed: string): SourcePredictResult {
  const kind = mediaKind(file);
  if (!APPLIES[kind]) return parsed({ source, results: { predictions: [], errors: [{ message: `${file} is an archive; archives are not expanded`, file }] } });
  return parsed({ source, results: { predictions: [predictFile(file, kind, MEDIA_WORDS.split(' '), seed)], errors: [] } });
}

export const urlResult = (url: string) => media({ type: 'url', url }, urlFileName(url), url);
export const textResult = (text: string) => parsed({ source: { type: 'text' }, results: { predictions: [predictFile('text', 'text', text.split(' '), text)], errors: [] } });
export const fileResult = (filename: string) => media({ type: 'file', filename, content_type: null, md5sum: filename }, filename, filename);
export const failedUrl = (url: string, error: string) => parsed({ source: { type: 'url', url }, error });

/** A batch's outcome items, mapped the way the results activity maps sources as they stream. */
export function mapSources(predictions: Predictions, items: ItemRecord[]): BatchOutcome['items'] {
  const matcher = new SourceMatcher(items);
  const claimed = new Map<number, { sourceIndex: number } & SourceReturn>();
  predictions.forEach((result, sourceIndex) => {
    const item = matcher.claim(result.source);
    const returned = { error: result.error, hasResults: Boolean(result.results), files: result.results?.predictions.length ?? 0, firstError: result.results?.errors[0]?.message };
    if (item) claimed.set(item.line, { sourceIndex, ...returned });
  });
  return outcomeItems(items, claimed);
}

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
    await writeBatchOutcome(createFsStore(runDir), outcome);
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
