/**
 * Batch outcomes on disk: `jobs/<batch>-<job_id>/outcome.json`, written as each batch finishes
 * and found again by finalize. A batch may have several (a batch that failed, then a redrive of
 * its failed items): COMPLETED ones come first, then folder name order, so every finalize makes
 * the same choice.
 */
import type { BatchOutcome } from '../schemas/batch.js';
import type { ResultStore } from '../store/store.js';
import { batchOfJobDir, jobDir, JOBS_DIR, OUTCOME_JSON } from './layout.js';
import { BatchOutcomeRecord, parseRecord } from './records.js';

/** Writes the outcome atomically, to `jobs/<batch>-<job_id or 'failed'>/outcome.json`. */
export async function writeBatchOutcome(store: ResultStore, outcome: BatchOutcome): Promise<void> {
  await store.writeJson(`${jobDir(outcome.batch, outcome.jobId)}/${OUTCOME_JSON}`, outcome);
}

export class OutcomeFinder {
  readonly #store: ResultStore;
  readonly #dirsByBatch: Map<number, string[]>;

  private constructor(store: ResultStore, dirsByBatch: Map<number, string[]>) {
    this.#store = store;
    this.#dirsByBatch = dirsByBatch;
  }

  /** Lists `jobs/` once. */
  static async open(store: ResultStore): Promise<OutcomeFinder> {
    const dirsByBatch = new Map<number, string[]>();
    for (const name of await store.list(JOBS_DIR)) {
      const batch = batchOfJobDir(name);
      if (batch === undefined) continue;
      const dirs = dirsByBatch.get(batch);
      if (dirs) dirs.push(name);
      else dirsByBatch.set(batch, [name]);
    }
    return new OutcomeFinder(store, dirsByBatch);
  }

  /** The batch's outcomes, COMPLETED first; none when it never finished (cancelled or abandoned run). */
  async findAll(batch: number): Promise<BatchOutcome[]> {
    const found: BatchOutcome[] = [];
    for (const dir of [...(this.#dirsByBatch.get(batch) ?? [])].sort()) {
      const path = `${JOBS_DIR}/${dir}/${OUTCOME_JSON}`;
      const raw = await this.#store.readJson(path);
      if (raw === undefined) continue; // a job whose outcome was never written
      found.push(parseRecord(BatchOutcomeRecord, raw, this.#store.resolve(path)));
    }
    return [...found.filter((o) => o.status === 'COMPLETED'), ...found.filter((o) => o.status !== 'COMPLETED')];
  }
}
