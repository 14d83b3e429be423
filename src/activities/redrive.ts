/**
 * Planning a redrive: the batches of a finished run that hold failed or never-run items, each
 * narrowed to exactly those lines. The slices (and their hashes) are the original ones, so the
 * manifest must not have changed; every other item keeps its result.
 *
 * A redrive follows the run it redrives, whatever its own workflow id: the folder's owner record
 * (`owner.json`) is neither checked against the redrive nor changed by it. A folder from before
 * owner records has none; its run.json is enough.
 */
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { JsonlWriter } from '../manifest/jsonl-file.js';
import { INDEX_JSONL, OWNER_JSON, PLAN_JSON, RUN_JSON } from '../results/layout.js';
import { BatchRangeRecord, readRecords } from '../results/records.js';
import type { PlanResult } from '../schemas/batch.js';
import type { Storage } from '../store/storage.js';
import type { ResultStore } from '../store/store.js';
import { FAILURE_TYPES } from '../workflows/definitions.js';

export interface PlanRedriveInput {
  runDir: string;
  /** File name (without extension) of the redrive's plan in the run folder. */
  name: string;
}

export interface RedrivePlan {
  plan: PlanResult;
  /** The original plan, which finalize follows so the index still lists every item. */
  originalPlanPath: string;
  /** The original run's input, as run.json recorded it: its settings apply to the redrive. */
  originalInput: Record<string, unknown>;
}

/**
 * An index line: `source_type` (flat since issue 17), or `source.type` in folders finalized
 * before. Invalid lines have no batch (and are never redriven).
 */
const RedoEntry = z.object({
  batch: z.number().optional(),
  line: z.number(),
  status: z.string(),
  source_type: z.string().optional(),
  source: z.union([z.string(), z.object({ type: z.string() }).loose()]).optional(),
}).loose();

const REDO = new Set(['failed', 'not_run']);

export function createPlanRedrive(storage: Storage) {
  return function humePlanRedrive(input: PlanRedriveInput): Promise<RedrivePlan> {
    return planRedrive(storage.folder(input.runDir), input);
  };
}

async function planRedrive(store: ResultStore, { runDir, name }: PlanRedriveInput): Promise<RedrivePlan> {
  const [original, run, owned] = await Promise.all([store.readJson(PLAN_JSON), store.readJson(RUN_JSON), store.exists(OWNER_JSON)]);
  // run.json is written last, by finalize: without it the run there is running, or ended unfinished.
  if (original === undefined || run === undefined) {
    const missing = [owned ? [] : [OWNER_JSON], original === undefined ? [PLAN_JSON] : [], run === undefined ? [RUN_JSON] : []].flat();
    throw ApplicationFailure.nonRetryable(`${runDir} holds no finished run to redrive (no ${missing.join(', ')})`, FAILURE_TYPES.nothingToRedrive);
  }
  const plan = original as PlanResult;
  const redo = new Map<number, { lines: number[]; urls: number; texts: number; files: number }>();
  for await (const entry of readRecords(store, INDEX_JSONL, RedoEntry)) {
    if (!REDO.has(entry.status) || entry.batch === undefined) continue;
    const batch = redo.get(entry.batch) ?? { lines: [], urls: 0, texts: 0, files: 0 };
    batch.lines.push(entry.line);
    const type = entry.source_type ?? (typeof entry.source === 'object' ? entry.source.type : undefined);
    if (type === 'url') batch.urls++;
    else if (type === 'text') batch.texts++;
    else batch.files++;
    redo.set(entry.batch, batch);
  }

  const planName = `${name}.jsonl`;
  const planPath = store.resolve(planName);
  const file = await JsonlWriter.create(store, planName);
  let batches = 0;
  let items = 0;
  try {
    for await (const range of readRecords(store, plan.planPath, BatchRangeRecord)) {
      const batch = redo.get(range.index);
      if (!batch) continue;
      await file.write({ ...range, ...batch, items: batch.lines.length });
      batches++;
      items += batch.lines.length;
    }
  } catch (e) {
    await file.abort();
    throw e;
  }
  // Nothing to redo: the folder stays exactly as the run left it.
  if (batches === 0) await file.abort();
  else await file.close();
  return {
    plan: { ...plan, items, validItems: items, invalidCount: 0, invalid: [], batches, planPath },
    originalPlanPath: plan.planPath,
    originalInput: (run as { input?: Record<string, unknown> }).input ?? {},
  };
}
