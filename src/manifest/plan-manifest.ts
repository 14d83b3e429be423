/**
 * Plans a manifest in one streaming pass: hashes the file, validates every line, finds duplicate
 * ids, cuts the valid items into batches and hashes each batch's slice. Memory stays bounded by
 * the longest line plus the id registry; batches and invalid lines go straight to the sinks.
 */
import { createHash } from 'node:crypto';
import { BatchPlanner, type PlannedBatch } from '../batching/plan.js';
import { isPermanentReadFailure, readFailure } from '../store/read-failure.js';
import type { StoredFile } from '../store/storage.js';
import type { BatchLimits, BatchRange, InvalidLine, ManifestFormat, ManifestRef } from '../schemas/batch.js';
import { ManifestError } from './errors.js';
import { IdRegistry } from './ids.js';
import { isProblem } from './problems.js';
import { readManifest } from './reader.js';
import { type SliceRole, SliceTracker } from './slices.js';
import { type ValidationContext, createValidator } from './validate.js';

export interface PlanSinks {
  batch(range: BatchRange): Promise<void>;
  invalid(line: InvalidLine): Promise<void>;
  /** Called every PROGRESS_EVERY lines with the line reached. */
  progress?(line: number): void;
}

export interface ManifestPlan {
  manifest: ManifestRef;
  items: number;
  validItems: number;
  invalidCount: number;
  batches: number;
  uploadBytes: number;
}

const PROGRESS_EVERY = 5_000;

/** The manifest's location is recorded in the plan and read again at submit. */
export async function planManifestFile(
  file: StoredFile,
  format: ManifestFormat,
  ctx: ValidationContext,
  limits: BatchLimits,
  sinks: PlanSinks,
): Promise<ManifestPlan> {
  const path = file.location;
  const chunks = file.read()[Symbol.asyncIterator]();
  const fileHash = createHash('sha256');
  async function* hashed(): AsyncGenerator<Buffer> {
    while (true) {
      let next: IteratorResult<Buffer>;
      try {
        next = await chunks.next();
      } catch (err) {
        // A connection dropped mid-stream is retried with the activity; only a refusal refuses the run.
        if (!isPermanentReadFailure(err)) throw err;
        throw new ManifestError(`cannot read the manifest ${path} (${readFailure(err)})`);
      }
      if (next.done) return;
      fileHash.update(next.value);
      yield next.value;
    }
  }

  const validate = createValidator(ctx);
  const ids = new IdRegistry();
  const planner = new BatchPlanner(limits);
  const slices = new SliceTracker();
  const plan: ManifestPlan = { manifest: { path, format, sha256: '' }, items: 0, validItems: 0, invalidCount: 0, batches: 0, uploadBytes: 0 };
  const emit = async (batch: PlannedBatch | undefined) => {
    if (!batch) return;
    plan.batches++;
    await sinks.batch({ ...batch, ...slices.take() });
  };

  try {
    for await (const entry of readManifest(hashed(), { format })) {
      const { record } = entry;
      if (entry.kind === 'header') plan.manifest.csvHeader = entry.text;
      if (entry.kind !== 'line') {
        slices.add(record.bytes, 'other', record.line);
        continue;
      }
      if (++plan.items % PROGRESS_EVERY === 0) sinks.progress?.(record.line);
      const { parsed } = entry;
      let outcome = isProblem(parsed) ? parsed : await validate(parsed, record.line);
      let role: SliceRole = 'other';
      if (!isProblem(outcome)) {
        const duplicate = ids.claim(outcome, !isProblem(parsed) && parsed.id !== undefined);
        if (duplicate) [outcome, role] = [duplicate, 'duplicate'];
      }
      if (isProblem(outcome)) {
        plan.invalidCount++;
        await sinks.invalid({ line: record.line, ...outcome });
      } else {
        plan.validItems++;
        if (outcome.kind === 'file') plan.uploadBytes += outcome.bytes;
        await emit(planner.add(outcome, record));
        role = 'item';
      }
      slices.add(record.bytes, role, record.line);
    }
    await emit(planner.finish());
  } finally {
    await chunks.return?.();
  }
  plan.manifest.sha256 = fileHash.digest('hex');
  return plan;
}
