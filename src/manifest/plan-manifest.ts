/**
 * Plans a manifest in two streaming passes. The first finds which ids may repeat (id-scan.ts);
 * the second hashes the file, validates every line, finds duplicate ids among those, cuts the
 * valid items into batches and hashes each batch's slice. Memory stays bounded by the longest
 * line, the first pass's fixed-size filter and ~20 bytes per repeated id, however many distinct
 * ids there are; batches and invalid lines go straight to the sinks.
 */
import { type Hash, createHash } from 'node:crypto';
import { BatchPlanner, type PlannedBatch } from '../batching/plan.js';
import { isPermanentReadFailure, readFailure } from '../store/read-failure.js';
import type { StoredFile } from '../store/storage.js';
import type { BatchLimits, BatchRange, InvalidLine, ManifestFormat, ManifestRef } from '../schemas/batch.js';
import { ManifestError } from './errors.js';
import { PROGRESS_EVERY, scanIds } from './id-scan.js';
import { IdRegistry, type IdRegistryOptions, fingerprintOf } from './ids.js';
import { isProblem } from './problems.js';
import type { StreamStart } from './lines.js';
import { type ManifestEntry, readManifest } from './reader.js';
import { type SliceRole, SliceTracker } from './slices.js';
import { type ValidationContext, createValidator } from './validate.js';

export interface PlanSinks {
  batch(range: BatchRange): Promise<void>;
  invalid(line: InvalidLine): Promise<void>;
  /** Called every few thousand lines with the pass (ids first, then the plan) and the line reached. */
  progress?(line: number, pass: PlanPass): void;
}

export interface ManifestPlan {
  manifest: ManifestRef;
  items: number;
  validItems: number;
  invalidCount: number;
  batches: number;
  uploadBytes: number;
}

export type PlanPass = 'ids' | 'plan';

/**
 * The manifest's location is recorded in the plan and read again at submit. `ids` sets how ids
 * are fingerprinted (tests force collisions); lines are read back to confirm a duplicate.
 */
export async function planManifestFile(
  file: StoredFile,
  format: ManifestFormat,
  ctx: ValidationContext,
  limits: BatchLimits,
  sinks: PlanSinks,
  ids: Pick<IdRegistryOptions, 'fingerprint'> = {},
): Promise<ManifestPlan> {
  const path = file.location;
  const fingerprint = ids.fingerprint ?? fingerprintOf;
  const firstHash = createHash('sha256');
  const suspects = await scanIds(hashedRead(file, firstHash), format, fingerprint, (line) => sinks.progress?.(line, 'ids'));
  const fileHash = createHash('sha256');
  const chunks = hashedRead(file, fileHash);

  const validate = createValidator(ctx);
  const readBack = new ReadBack(file, () => plan.manifest);
  const registry = new IdRegistry({ fingerprint, suspects, readId: (from, line, end) => readBack.idOf(from, line, end) });
  const planner = new BatchPlanner(limits);
  const slices = new SliceTracker();
  const plan: ManifestPlan = { manifest: { path, format, sha256: '' }, items: 0, validItems: 0, invalidCount: 0, batches: 0, uploadBytes: 0 };
  const emit = async (batch: PlannedBatch | undefined) => {
    if (!batch) return;
    plan.batches++;
    await sinks.batch({ ...batch, ...slices.take() });
  };
  /** A record into the open slice; a slice holding too much besides its items closes its batch. */
  const slice = async (bytes: Buffer, role: SliceRole, line: number) => {
    slices.add(bytes, role, line);
    if (slices.full) await emit(planner.finish());
  };

  try {
    for await (const entry of readManifest(chunks, { format })) {
      const { record } = entry;
      if (entry.kind === 'header') plan.manifest.csvHeader = entry.text;
      if (entry.kind !== 'line') {
        await slice(record.bytes, 'other', record.line);
        continue;
      }
      if (++plan.items % PROGRESS_EVERY === 0) sinks.progress?.(record.line, 'plan');
      const { parsed } = entry;
      let outcome = isProblem(parsed) ? parsed : await validate(parsed, record.line);
      let role: SliceRole = 'other';
      if (!isProblem(outcome)) {
        const duplicate = await registry.claim(outcome, !isProblem(parsed) && parsed.id !== undefined, record.byteStart);
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
      await slice(record.bytes, role, record.line);
    }
    await emit(planner.finish());
  } finally {
    await readBack.close();
  }
  plan.manifest.sha256 = fileHash.digest('hex');
  // The passes must have read the same bytes, or an id the first missed could be repeated unseen.
  if (firstHash.digest('hex') !== plan.manifest.sha256) {
    throw new ManifestError(`the manifest ${path} changed while it was being planned (it is read twice); plan it once it is written in full`);
  }
  return plan;
}

/** The file's chunks, hashed as they pass; a read that fails for good refuses the manifest. */
async function* hashedRead(file: StoredFile, hash: Hash): AsyncGenerator<Buffer> {
  const chunks = file.read()[Symbol.asyncIterator]();
  try {
    while (true) {
      let next: IteratorResult<Buffer>;
      try {
        next = await chunks.next();
      } catch (err) {
        throw refusalOf(file.location, err);
      }
      if (next.done) return;
      hash.update(next.value);
      yield next.value;
    }
  } finally {
    await chunks.return?.();
  }
}

/** A connection dropped mid-stream is retried with the activity; only a refusal refuses the run. */
function refusalOf(path: string, err: unknown): unknown {
  return isPermanentReadFailure(err) ? new ManifestError(`cannot read the manifest ${path} (${readFailure(err)})`) : err;
}

/** A line no further than this past the open read-back stream is read on from it, not reopened. */
const READ_ON_BYTES = 1024 * 1024;

/** A read-back stream and the last record read from it. */
interface OpenRead {
  entries: AsyncGenerator<ManifestEntry>;
  last?: ManifestEntry;
}

/**
 * Reads earlier lines back for the id registry, which keeps fingerprints, not ids. One stream stays
 * open and is read on while the lines asked for move forward, so a manifest repeated after itself
 * (every line a duplicate) is read back once, not opened once per line.
 */
class ReadBack {
  readonly #file: StoredFile;
  /** The CSV header is known only once planning has read it. */
  readonly #manifest: () => ManifestRef;
  #open: OpenRead | undefined;

  constructor(file: StoredFile, manifest: () => ManifestRef) {
    this.#file = file;
    this.#manifest = manifest;
  }

  /** The id line `line` declares; `from` is a record start at or before it, `end` a byte past it. */
  async idOf(from: StreamStart, line: number, end: number): Promise<string | undefined> {
    const entry = (await this.#readOn(from, line)) ?? (await this.#reopen(from, line, end));
    return entry?.kind === 'line' && !isProblem(entry.parsed) ? entry.parsed.id : undefined;
  }

  async close(): Promise<void> {
    await this.#open?.entries.return(undefined);
    this.#open = undefined;
  }

  async #readOn(from: StreamStart, line: number): Promise<ManifestEntry | undefined> {
    const last = this.#open?.last?.record;
    if (!last || last.line >= line || from.byte > last.byteEnd + READ_ON_BYTES) return undefined;
    // A stream left idle may have been closed by the server: reopening reads the line all the same.
    return this.#seek(line).catch(() => undefined);
  }

  async #reopen(from: StreamStart, line: number, end: number): Promise<ManifestEntry | undefined> {
    await this.close().catch(() => undefined);
    const manifest = this.#manifest();
    const entries = readManifest(this.#file.read(from.byte, end), { format: manifest.format, start: from, csvHeader: manifest.csvHeader });
    this.#open = { entries };
    try {
      return await this.#seek(line);
    } catch (err) {
      throw refusalOf(manifest.path, err);
    }
  }

  /** Reads the open stream on to `line`'s record. */
  async #seek(line: number): Promise<ManifestEntry | undefined> {
    const open = this.#open as OpenRead;
    for (let next = await open.entries.next(); !next.done; next = await open.entries.next()) {
      open.last = next.value;
      if (next.value.record.line >= line) return next.value.record.line === line ? next.value : undefined;
    }
    open.last = undefined;
    return undefined;
  }
}
