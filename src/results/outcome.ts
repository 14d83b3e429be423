/**
 * Batch outcomes on disk: `jobs/<batch>-<job_id>/outcome.json`, written as each batch finishes
 * and found again by finalize. A batch may have several (a FAILED job, then its resubmission):
 * a COMPLETED one wins, then folder name order, so the choice is the same on every finalize.
 */
import type { BatchOutcome } from '../schemas/batch.js';
import { createFsStore } from '../store/fs.js';
import type { ResultStore } from '../store/store.js';
import { batchOfJobDir, jobDir, JOBS_DIR, OUTCOME_JSON } from './layout.js';
import { BatchOutcomeRecord, parseRecord } from './records.js';

/** Writes the outcome atomically, to `jobs/<batch>-<job_id or 'failed'>/outcome.json`. */
export async function writeBatchOutcome(runDir: string, outcome: BatchOutcome): Promise<void> {
  await createFsStore(runDir).writeJson(`${jobDir(outcome.batch, outcome.jobId)}/${OUTCOME_JSON}`, outcome);
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

  /** The batch's outcome, or `undefined` when it never finished (cancelled or abandoned run). */
  async find(batch: number): Promise<BatchOutcome | undefined> {
    let failed: BatchOutcome | undefined;
    for (const dir of this.#dirsByBatch.get(batch) ?? []) {
      const path = `${JOBS_DIR}/${dir}/${OUTCOME_JSON}`;
      const raw = await this.#store.readJson(path);
      if (raw === undefined) continue; // a job whose outcome was never written
      const outcome = parseRecord(BatchOutcomeRecord, raw, this.#store.resolve(path));
      if (outcome.status === 'COMPLETED') return outcome;
      failed ??= outcome;
    }
    return failed;
  }
}
