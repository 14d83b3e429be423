/**
 * The activities that write a run's results folder: each batch's outcome as it finishes, and
 * at the end index.jsonl, csv/<model>.csv, summary.json and run.json. Finalize streams the plan
 * batch by batch and holds one batch's items at most; a job's CSV rows are copied from the shards
 * its fetch wrote (shards.ts), never parsed again (a job without shards, from a folder written
 * before them, gets them written first). Everything it writes is derived from its input and the
 * folder, in plan, line and prediction order, so a rerun writes the same bytes. The CSVs'
 * `meta.<key>` columns must be known before their header: a CSV manifest's header names them;
 * for a JSONL manifest a first pass over the plan's items collects the key names (only the names
 * are kept, at most MAX_META_COLUMNS).
 *
 * After a batch, once `checkpointEveryMs` has passed since the last one, the output files are saved
 * and a checkpoint (finalize.checkpoint.json) records their lengths, the counts so far and the next
 * batch, so a retried finalize of the same input continues there; the final files still appear
 * whole, and byte-identical to an uninterrupted run.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { MODEL_NAMES, type JobConfig, type ModelName } from '../hume/schemas.js';
import { chooseOutcomes, invalidEntry, itemEntries, type IndexEntry } from '../results/index-entries.js';
import { InvalidLineMerge } from '../results/invalid-lines.js';
import { FINALIZE_CHECKPOINT_JSON, INDEX_JSONL, jobDir, RUN_JSON, shardRowsPath, SUMMARY_JSON } from '../results/layout.js';
import { MetaColumns } from '../results/metadata.js';
import { OutcomeFinder } from '../results/outcome.js';
import { BatchRangeRecord, readRecords } from '../results/records.js';
import { RunOutput, SavedOutput, type RowSpan } from '../results/run-output.js';
import { readShard, writeShards, type ShardRecord } from '../results/shards.js';
import { priorRuns, RunTally, runJson, SavedTally, summaryJson, type RunInfo, type RunSummary } from '../results/summary.js';
import type { BatchOutcome, BatchRange, ItemRecord, ManifestRef, PlanResult } from '../schemas/batch.js';
import { createStorage, fileOf, type Storage } from '../store/storage.js';
import type { ResultStore } from '../store/store.js';
import { whileHeartbeating, type Progress } from './heartbeat.js';

export type { RunInfo, RunSummary } from '../results/summary.js';

export interface FinalizeDeps {
  /** @default from the environment */
  storage?: Storage;
  /** A batch's valid items, re-read from the manifest slice, validated as at planning. */
  loadItems(manifest: ManifestRef, range: BatchRange, validation: ItemValidation): Promise<ItemRecord[]>;
  /**
   * How often the outputs are saved and checkpointed: a retry redoes at most this much. Saving
   * after every batch (0) spent more time in fsyncs than in copying rows. @default 1000
   */
  checkpointEveryMs?: number;
}

export interface FinalizeInput {
  runDir: string;
  runId: string;
  plan: PlanResult;
  /** Written to run.json and summary.json as given: the caller strips secrets. */
  run: RunInfo;
  /** What items were validated against when the run was planned. */
  validation: ItemValidation;
}

export interface ItemValidation {
  config: JobConfig;
  allowedRoot?: string;
}

export function createFinalizeActivities({ storage = createStorage(), loadItems, checkpointEveryMs = DEFAULT_CHECKPOINT_EVERY_MS }: FinalizeDeps) {
  return {
    async humeFinalizeRun(input: FinalizeInput): Promise<RunSummary> {
      return whileHeartbeating((signal, progress) => finalizeRun(storage.folder(input.runDir), input, { loadItems, checkpointEveryMs }, signal, progress));
    },
  };
}

const DEFAULT_CHECKPOINT_EVERY_MS = 1_000;

const Checkpoint = z.object({
  /** Of the finalize input: a checkpoint of another finalize (a later redrive's) is not resumed. */
  fingerprint: z.string(),
  /** Plan records done. */
  batches: z.number().int().min(0),
  invalidTaken: z.number().int().min(0),
  meta: z.object({ names: z.array(z.string()), truncated: z.boolean() }),
  output: SavedOutput,
  tally: SavedTally,
});
type Checkpoint = z.infer<typeof Checkpoint>;

type Pass = Required<Pick<FinalizeDeps, 'loadItems' | 'checkpointEveryMs'>>;

async function finalizeRun(store: ResultStore, input: FinalizeInput, { loadItems, checkpointEveryMs }: Pass, signal: AbortSignal, progress: Progress): Promise<RunSummary> {
  const { runId, plan, run, validation } = input;
  const fingerprint = createHash('sha256').update(JSON.stringify(input)).digest('hex');
  let saved = await readCheckpoint(store, fingerprint);
  const resumed = saved && (await RunOutput.open(store, saved.meta.names, saved.output).catch(() => undefined));
  // A checkpoint whose files are gone (committed, or removed) cannot be continued: start over.
  if (!resumed) saved = undefined;
  const meta = saved
    ? MetaColumns.restore(saved.meta)
    : (MetaColumns.fromCsvHeader(plan.manifest) ?? (await collectMetaColumns(store, plan, loadItems, validation, signal)));
  const out = resumed ?? (await RunOutput.open(store, meta.names()));
  const tally = saved ? RunTally.restore(saved.tally) : new RunTally();
  let csvRows: RunSummary['csv'];
  try {
    const pass = { store, out, meta, tally, invalid: new InvalidLineMerge(store, plan, saved?.invalidTaken), outcomes: await OutcomeFinder.open(store) };
    csvRows = await writeRows(pass, input, loadItems, { fingerprint, skip: saved?.batches ?? 0, checkpointEveryMs, signal, progress });
  } catch (e) {
    await out.close();
    throw e;
  }

  const metaInfo = { count: meta.names().length, truncated: meta.truncated };
  const prior = priorRuns(run.redrive ? await store.readJson(SUMMARY_JSON).catch(() => undefined) : undefined, run);
  await store.writeJson(SUMMARY_JSON, summaryJson(runId, run, tally, csvRows, metaInfo, prior));
  await store.writeJson(RUN_JSON, runJson(runId, run, plan.manifest));
  await store.remove(FINALIZE_CHECKPOINT_JSON);
  return {
    items: tally.items,
    jobs: { completed: tally.jobs.completed, failed: tally.jobs.failed },
    predictionErrors: tally.predictionErrors,
    csv: csvRows,
    rowsCopied: out.rowsCopied,
    paths: { runDir: store.resolve('.'), index: store.resolve(INDEX_JSONL), summary: store.resolve(SUMMARY_JSON) },
  };
}

interface RowPass {
  store: ResultStore;
  out: RunOutput;
  meta: MetaColumns;
  tally: RunTally;
  invalid: InvalidLineMerge;
  outcomes: OutcomeFinder;
}

/**
 * index.jsonl and the CSVs, batch by batch from the `skip`-th plan record, with a checkpoint after
 * a batch every `checkpointEveryMs`; returns rows per model once every file is in place.
 */
async function writeRows(
  { store, out, meta, tally, invalid, outcomes }: RowPass,
  { plan, validation }: FinalizeInput,
  loadItems: FinalizeDeps['loadItems'],
  { fingerprint, skip, checkpointEveryMs, signal, progress }: { fingerprint: string; skip: number; checkpointEveryMs: number; signal: AbortSignal; progress: Progress },
): Promise<RunSummary['csv']> {
  const writeEntry = async (entry: IndexEntry, batchFailed = false): Promise<void> => {
    tally.addEntry(entry, batchFailed);
    await out.writeIndexLine(JSON.stringify(entry));
  };
  let batches = 0;
  let checkpointed = performance.now();
  for await (const range of readRecords(store, plan.planPath, BatchRangeRecord)) {
    if (batches++ < skip) continue;
    signal.throwIfAborted();
    const found = await outcomes.findAll(range.index);
    tally.addBatch(found[0]);
    const items = await loadItems(plan.manifest, range, validation);
    const byLine = new Map(items.map((item) => [item.line, item]));
    const shards = new Map<BatchOutcome, ShardRecord>();
    for (const outcome of found) {
      if (outcome.status === 'COMPLETED' && outcome.predictionsPath) shards.set(outcome, await jobShard(store, out, outcome, byLine, signal));
    }
    const chosen = chooseOutcomes(items, found);
    const archive = (line: number, outcome: BatchOutcome) => shards.get(outcome)?.sources.find((s) => s.line === line);
    for (const entry of itemEntries(range, items, chosen, archive)) {
      for await (const line of invalid.before(entry.line)) await writeEntry(invalidEntry(line));
      await writeEntry(entry, chosen.get(entry.line)?.outcome.status === 'FAILED');
    }
    for (const [outcome, checked] of shards) {
      // With several jobs in a batch (a redrive), an earlier one may have just opened a model's CSV
      // under its own header: check this job's shard against it again before copying.
      const shard = shards.size > 1 ? await jobShard(store, out, outcome, byLine, signal) : checked;
      tally.predictionErrors += await copyJobRows(out, meta, outcome, shard, byLine, (line) => chosen.get(line)?.outcome === outcome);
    }
    if (performance.now() - checkpointed >= checkpointEveryMs) {
      await store.writeJson(FINALIZE_CHECKPOINT_JSON, {
        fingerprint, batches, invalidTaken: invalid.taken, meta: { names: meta.names(), truncated: meta.truncated }, output: await out.save(), tally: tally.save(),
      } satisfies Checkpoint);
      checkpointed = performance.now();
    }
    progress.report({ batches, rowsCopied: out.rowsCopied });
  }
  for await (const line of invalid.before(Infinity)) await writeEntry(invalidEntry(line));
  return out.commit();
}

async function readCheckpoint(store: ResultStore, fingerprint: string): Promise<Checkpoint | undefined> {
  const raw = await store.readJson(FINALIZE_CHECKPOINT_JSON).catch(() => undefined);
  const parsed = raw === undefined ? undefined : Checkpoint.safeParse(raw);
  return parsed?.success && parsed.data.fingerprint === fingerprint ? parsed.data : undefined;
}

/**
 * The job's shard, as its fetch wrote it; written now from predictions.json when there is none
 * (a folder from before shards) or when its rows were laid out under another header than the
 * run's CSVs already have (predictions whose families differ between jobs).
 */
async function jobShard(store: ResultStore, out: RunOutput, outcome: BatchOutcome, byLine: ReadonlyMap<number, ItemRecord>, signal: AbortSignal): Promise<ShardRecord> {
  const folder = jobDir(outcome.batch, outcome.jobId);
  const shard = await readShard(store, folder);
  const runSpecs: ShardRecord['specs'] = {};
  for (const model of MODEL_NAMES) {
    const spec = out.specOf(model);
    if (spec) runSpecs[model] = spec as Record<string, string[]>;
  }
  const differs = (model: ModelName, spec: unknown) => runSpecs[model] !== undefined && JSON.stringify(runSpecs[model]) !== JSON.stringify(spec);
  if (shard && !Object.entries(shard.specs).some(([model, spec]) => differs(model as ModelName, spec))) return shard;
  if (!(await store.exists(outcome.predictionsPath!))) throw new Error(`batch ${outcome.batch}: predictions missing at ${store.resolve(outcome.predictionsPath!)}`);
  const lineOf = new Map(outcome.items.flatMap((item) => (item.sourceIndex === undefined ? [] : [[item.sourceIndex, item.line] as const])));
  return writeShards(store, folder, fileOf(store, outcome.predictionsPath!), {
    jobId: outcome.jobId ?? '',
    claim: (index) => byLine.get(lineOf.get(index) ?? -1),
    specs: runSpecs,
    signal,
  });
}

/**
 * The job's rows for the items it speaks for (`owns`: a redrive may have completed some of its
 * failed items in another job), in manifest line order, then the sources no item claimed, in
 * Hume's order. Returns those sources' per-file errors.
 */
async function copyJobRows(
  out: RunOutput,
  meta: MetaColumns,
  outcome: BatchOutcome,
  shard: ShardRecord,
  byLine: ReadonlyMap<number, ItemRecord>,
  owns: (line: number) => boolean,
): Promise<number> {
  const folder = jobDir(outcome.batch, outcome.jobId);
  const bySource = new Map(shard.sources.map((source) => [source.index, source]));
  const owners = outcome.items
    .filter((item) => item.sourceIndex !== undefined && owns(item.line))
    .sort((a, b) => a.line - b.line)
    .map((item) => ({ source: bySource.get(item.sourceIndex!), item: byLine.get(item.line) }));
  const claimed = new Set(outcome.items.map((item) => item.sourceIndex));
  const unclaimed = shard.sources.filter((source) => !claimed.has(source.index)).map((source) => ({ source, item: undefined }));
  let predictionErrors = 0;
  const spans = new Map<ModelName, RowSpan[]>();
  for (const { source, item } of [...owners, ...unclaimed]) {
    if (!source) continue;
    const rowEnd = meta.rowEnd(item?.metadata);
    for (const [model, range] of Object.entries(source.rows) as [ModelName, [number, number, number]][]) {
      if (!spans.has(model)) spans.set(model, []);
      spans.get(model)!.push({ range, rowEnd });
    }
    predictionErrors += source.errors;
  }
  // Model by model: each model's rows go to a file of their own, in the same order as before.
  for (const [model, modelSpans] of spans) await out.copyRows(model, shard.specs[model]!, shardRowsPath(folder, model), modelSpans);
  return predictionErrors;
}

/** The first pass: every batch's items, for their metadata key names only. */
async function collectMetaColumns(
  store: ResultStore,
  plan: PlanResult,
  loadItems: FinalizeDeps['loadItems'],
  validation: ItemValidation,
  signal: AbortSignal,
): Promise<MetaColumns> {
  const meta = new MetaColumns();
  for await (const range of readRecords(store, plan.planPath, BatchRangeRecord)) {
    signal.throwIfAborted();
    for (const item of await loadItems(plan.manifest, range, validation)) meta.addItem(item);
  }
  return meta;
}
