/**
 * The submission journal: one small record per submission (job workflow, run chain, attempt) in the results folder,
 * written *before* the request goes to Hume and completed with the job id once Hume answers.
 *
 * It is what makes submit idempotent across everything Temporal can do to a workflow — activity
 * retries, worker crashes, continue-as-new, `temporal workflow reset` of the job or of its run,
 * even a run reset that starts the job's workflow again from scratch: history may forget the job,
 * the folder does not. It also bounds the search for a lost answer: no record means the request
 * provably never left, a record without a job id means "look for it since `sentAtMs`", and a
 * request Hume refused outright (an HTTP answer) is marked as never created.
 */
import { z } from 'zod';
import type { ResultStore } from '../store/store.js';

export const SUBMISSIONS_DIR = 'submissions';

export const SubmissionRecord = z.object({
  /** The key the request carried in its callback URL (the file is named by it; kept for a person reading it). */
  key: z.string(),
  /** When the request was (about to be) sent; absent once Hume answered it without creating a job. */
  sentAtMs: z.number().optional(),
  jobId: z.string().optional(),
});
export type SubmissionRecord = z.infer<typeof SubmissionRecord>;

export class SubmissionJournal {
  readonly #store: ResultStore;
  readonly #path: string;
  readonly #key: string;

  /** `store` is the run folder's (batch jobs) or the job's result folder's; one file per submission key. */
  constructor(store: ResultStore, submissionKey: string) {
    this.#store = store;
    this.#key = submissionKey;
    this.#path = `${SUBMISSIONS_DIR}/${submissionKey.replace(/[^A-Za-z0-9._-]/g, '_')}.json`;
  }

  async read(): Promise<SubmissionRecord | undefined> {
    const raw = await this.#store.readJson(this.#path);
    if (raw === undefined) return undefined;
    const parsed = SubmissionRecord.safeParse(raw);
    // A record we cannot read is treated as "may have been sent": search rather than duplicate.
    return parsed.success ? parsed.data : { key: this.#key, sentAtMs: 0 };
  }

  write(record: SubmissionRecord): Promise<void> {
    return this.#store.writeJson(this.#path, record);
  }
}
