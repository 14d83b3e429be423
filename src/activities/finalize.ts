/**
 * The activities that write a run's results folder: each batch's outcome as it finishes, and
 * at the end index.jsonl, csv/<model>.csv, summary.json and run.json. Finalize streams the plan
 * batch by batch and holds one batch's items and one job's predictions at most; everything it
 * writes is derived from its input and the folder, in plan, line and prediction order, so a rerun
 * writes the same bytes. The CSVs' `meta.<key>` columns must be known before their header: a CSV
 * manifest's header names them; for a JSONL manifest a first pass over the plan's items collects
 * the key names (only the names are kept, at most MAX_META_COLUMNS).
 */
import type { JobConfig } from '../hume/schemas.js';
import { CsvFiles } from '../results/csv-files.js';
import { chooseOutcomes, invalidEntry, itemEntries, type IndexEntry } from '../results/index-entries.js';
import { InvalidLineMerge } from '../results/invalid-lines.js';
import { writeJobRows } from '../results/job-rows.js';
import { INDEX_JSONL, RUN_JSON, SUMMARY_JSON } from '../results/layout.js';
import { MetaColumns } from '../results/metadata.js';
import { OutcomeFinder } from '../results/outcome.js';
import { BatchRangeRecord, readRecords } from '../results/records.js';
import { priorRuns, RunTally, runJson, summaryJson, type RunInfo, type RunSummary } from '../results/summary.js';
import type { BatchRange, ItemRecord, ManifestRef, PlanResult } from '../schemas/batch.js';
import { createFsStore } from '../store/fs.js';
import { whileHeartbeating } from './heartbeat.js';

export type { RunInfo, RunSummary } from '../results/summary.js';

export interface FinalizeDeps {
  /** A batch's valid items, re-read from the manifest slice, validated as at planning. */
  loadItems(manifest: ManifestRef, range: BatchRange, validation: ItemValidation): Promise<ItemRecord[]>;
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

export function createFinalizeActivities({ loadItems }: FinalizeDeps) {
  return {
    async humeFinalizeRun(input: FinalizeInput): Promise<RunSummary> {
      return whileHeartbeating((signal) => finalizeRun(input, loadItems, signal));
    },
  };
}

async function finalizeRun(
  { runDir, runId, plan, run, validation }: FinalizeInput,
  loadItems: FinalizeDeps['loadItems'],
  signal: AbortSignal,
): Promise<RunSummary> {
  const store = createFsStore(runDir);
  const meta = MetaColumns.fromCsvHeader(plan.manifest) ?? (await collectMetaColumns(store, plan, loadItems, validation, signal));
  const outcomes = await OutcomeFinder.open(store);
  const invalid = new InvalidLineMerge(store, plan);
  const tally = new RunTally();
  const csv = new CsvFiles(store, meta.names());
  const index = await store.createWriter(INDEX_JSONL);
  const writeEntry = async (entry: IndexEntry, batchFailed = false): Promise<void> => {
    tally.addEntry(entry, batchFailed);
    await index.write(`${JSON.stringify(entry)}\n`);
  };

  let csvRows: RunSummary['csv'];
  try {
    for await (const range of readRecords(store, plan.planPath, BatchRangeRecord)) {
      signal.throwIfAborted();
      const found = await outcomes.findAll(range.index);
      tally.addBatch(found[0]);
      const items = await loadItems(plan.manifest, range, validation);
      const chosen = chooseOutcomes(items, found);
      for (const entry of itemEntries(range, items, chosen)) {
        for await (const line of invalid.before(entry.line)) await writeEntry(invalidEntry(line));
        await writeEntry(entry, chosen.get(entry.line)?.outcome.status === 'FAILED');
      }
      const byLine = new Map(items.map((item) => [item.line, item]));
      for (const outcome of found) {
        if (!outcome.predictionsPath) continue;
        const owns = (line: number) => chosen.get(line)?.outcome === outcome;
        tally.predictionErrors += await writeJobRows(store, csv, outcome, outcome.predictionsPath, byLine, owns);
      }
    }
    for await (const line of invalid.before(Infinity)) await writeEntry(invalidEntry(line));
    csvRows = await csv.commit();
    await index.commit();
  } catch (e) {
    await Promise.all([index.abort(), csv.abort()]);
    throw e;
  }

  const metaInfo = { count: meta.names().length, truncated: meta.truncated };
  const prior = priorRuns(run.redrive ? await store.readJson(SUMMARY_JSON).catch(() => undefined) : undefined, run);
  await store.writeJson(SUMMARY_JSON, summaryJson(runId, run, tally, csvRows, metaInfo, prior));
  await store.writeJson(RUN_JSON, runJson(runId, run, plan.manifest));
  return {
    items: tally.items,
    jobs: { completed: tally.jobs.completed, failed: tally.jobs.failed },
    predictionErrors: tally.predictionErrors,
    csv: csvRows,
    paths: { runDir: store.resolve('.'), index: store.resolve(INDEX_JSONL), summary: store.resolve(SUMMARY_JSON) },
  };
}

/** The first pass: every batch's items, for their metadata key names only. */
async function collectMetaColumns(
  store: ReturnType<typeof createFsStore>,
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
