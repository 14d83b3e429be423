/**
 * Plans a manifest in one streaming pass: hashes the file, validates every line, finds duplicate
 * ids, cuts the valid items into batches and hashes each batch's slice. Memory stays bounded by
 * the longest line plus the id registry; batches and invalid lines go straight to the sinks.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { BatchPlanner, type PlannedBatch } from '../batching/plan.js';
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
const READ_CHUNK_BYTES = 1024 * 1024;

/** `path` must be absolute: it is recorded in the plan and read again at submit. */
export async function planManifestFile(
  path: string,
  format: ManifestFormat,
  ctx: ValidationContext,
  limits: BatchLimits,
  sinks: PlanSinks,
): Promise<ManifestPlan> {
  const handle = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new ManifestError(`cannot read the manifest ${path} (${err.code ?? err.message})`);
  });
  const stream = handle.createReadStream({ highWaterMark: READ_CHUNK_BYTES });
  const fileHash = createHash('sha256');
  async function* hashed(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of stream) {
        fileHash.update(chunk as Buffer);
        yield chunk as Buffer;
      }
    } catch (err) {
      throw new ManifestError(`cannot read the manifest ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
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
    stream.destroy();
  }
  plan.manifest.sha256 = fileHash.digest('hex');
  return plan;
}
