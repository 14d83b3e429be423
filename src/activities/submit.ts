/** Creates the Hume job for one submission, and never a second one for the same submission. */
import { basename } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { HumeClient, LocalFileInput } from '../hume/client.js';
import { HumeHttpError } from '../hume/errors.js';
import { RequestLimiterBusy } from '../hume/rate-limit.js';
import type { InferenceBaseRequest, InferenceJob } from '../hume/schemas.js';
import { uploadFilename } from '../results/mapping.js';
import type { ItemRecord } from '../schemas/batch.js';
import type { LocalFile } from '../schemas/humeJob.js';
import { HumeJobInput } from '../schemas/inputs.js';
import { describeIssues } from '../schemas/issues.js';
import { isS3Location } from '../store/location.js';
import type { Storage } from '../store/storage.js';
import { buildCallbackUrl, NO_RECEIVER_BASE_URL, submissionKeyOf } from '../webhook/token.js';
import { loadBatch, sourcesOf } from './batch-items.js';
import { humeCall, toActivityFailure } from './failures.js';
import { whileHeartbeating } from './heartbeat.js';
import { handedOver, IN_TASK_SLOT_WAIT_MS } from './in-task.js';
import { SubmissionJournal } from './submissions.js';
import { FAILURE_TYPES, METRICS, SUBMIT_HANDED_OVER } from '../workflows/definitions.js';

export interface CallbackConfig {
  /** Public base URL of the webhook receiver. */
  baseUrl: string;
  /** Signing secrets; the first signs, all verify (rotation). */
  secrets: readonly string[];
}

export interface SubmitJobInput {
  input: HumeJobInput;
  /** The job's attempt (a resubmission after FAILED is a new attempt, and a new job on purpose). */
  attempt: number;
  /** Unique per submission; rides in the callback URL, which Hume echoes back. */
  submissionKey: string;
}

export interface SubmittedJob {
  jobId: string;
  /** Whether Hume will call back; without callbacks the workflow polls sooner. */
  callbacks: boolean;
  /** True when the job an earlier try had created was found instead of creating another. */
  adopted: boolean;
  /** When the request that created the job was sent (for an adopted job, by the earlier try). */
  sentAtMs?: number;
}

/** How much earlier than our clock said Hume may have stamped the job's creation. */
const CLOCK_SKEW_MS = 60_000;
/** Texts and URLs a local submit sends at most (well under the client's transfer-slot size); a larger request is the scheduled activity's (heartbeats, hours). */
const LOCAL_SUBMIT_MAX_BYTES = 512 * 1024;

/** A local submit stops before anything is written or sent: the workflow submits by the scheduled activity. */
const handOver = (why: string) => handedOver(`handed to the scheduled submit: ${why}`, SUBMIT_HANDED_OVER);

export function createSubmitJob(hume: HumeClient, callbacks: CallbackConfig | undefined, storage: Storage) {
  return async function humeSubmitJob({ input, attempt, submissionKey }: SubmitJobInput): Promise<SubmittedJob> {
    const parsed = HumeJobInput.safeParse(input);
    if (!parsed.success) {
      throw ApplicationFailure.nonRetryable(`invalid humeJob input: ${describeIssues(parsed.error)}`, FAILURE_TYPES.invalidInput);
    }
    const job = parsed.data;
    const workflowId = Context.current().info.workflowExecution?.workflowId;
    const journalDir = job.batch?.runDir ?? job.resultDir;
    if (!workflowId || !journalDir) throw ApplicationFailure.nonRetryable('humeSubmitJob runs for a workflow, with a batch or a resultDir', FAILURE_TYPES.invalidInput);
    // Named by the submission (workflow id, run chain, attempt): a later redrive's job of the same name has a journal of its own.
    const journal = new SubmissionJournal(storage.folder(journalDir), submissionKey);
    const willCallBack = callbacks !== undefined;
    const found = (jobId: string, sentAtMs?: number): SubmittedJob => {
      Context.current().metricMeter.createCounter(METRICS.adoptions, '1', 'submits that adopted the job an earlier try created').add(1);
      Context.current().log.info('adopted the Hume job an earlier try created', { jobId });
      return { jobId, callbacks: willCallBack, adopted: true, sentAtMs };
    };

    // Inside a workflow task a submit waits only briefly (for the request limiter) and never searches.
    const local = Context.current().info.isLocal;
    return whileHeartbeating(async (signal, progress) => {
      const earlier = await journal.read();
      if (earlier?.jobId) return found(earlier.jobId, earlier.sentAtMs);
      if (local && earlier?.sentAtMs !== undefined) throw handOver('an earlier try may have reached Hume: its job is looked for');
      // An earlier try may have reached Hume and lost the answer (timeout, reset, crash, reset workflow).
      if (earlier?.sentAtMs !== undefined) {
        const since = earlier.sentAtMs - CLOCK_SKEW_MS;
        const existing = await humeCall(() => findSubmitted(hume, submissionKey, since, signal));
        if (existing) {
          await journal.write({ key: submissionKey, sentAtMs: earlier.sentAtMs, jobId: existing.job_id });
          return found(existing.job_id, earlier.sentAtMs);
        }
      }

      // Every job carries its submission key in the callback URL, the one field Hume echoes back;
      // in polling mode that URL points nowhere.
      const callbackUrl = buildCallbackUrl(callbacks?.baseUrl ?? NO_RECEIVER_BASE_URL, workflowId, callbacks?.secrets[0], submissionKey);
      const items = job.batch ? await loadBatch(storage, job.batch, job.config) : undefined;
      const { urls, texts, files } = items ? sourcesOf(items) : { urls: job.urls ?? [], texts: job.texts ?? [], files: job.files ?? [] };
      if (local && (files.length > 0 || requestBytes(urls, texts) > LOCAL_SUBMIT_MAX_BYTES)) throw handOver('files, or more than 512 KiB of texts and URLs');
      const uploads = await Promise.all(files.map((file) => uploadOf(storage, file)));
      const request: InferenceBaseRequest = {
        ...job.config,
        ...(urls.length ? { urls } : {}),
        ...(texts.length ? { text: texts } : {}),
        callback_url: callbackUrl,
      };
      const sentAtMs = Date.now();
      await journal.write({ key: submissionKey, sentAtMs });
      let jobId: string;
      // Bytes sent, so a stalled upload shows in the pending activity (counts only: details reach history).
      const options = { signal, onProgress: (uploadedBytes: number) => progress.report({ uploadedBytes }), maxWaitMs: local ? IN_TASK_SLOT_WAIT_MS : undefined };
      try {
        jobId = uploads.length ? await hume.startJobWithFiles(uploads, request, options) : await hume.startJob(request, options);
      } catch (err) {
        if (err instanceof RequestLimiterBusy) {
          await journal.write({ key: submissionKey });
          throw handOver('the request limiter had no free slot in time');
        }
        // A 429 or 4xx answer (not 408) means Hume refused the request: no job was created,
        // so the next try need not search for one.
        if (err instanceof HumeHttpError && refusedOutright(err.status)) await journal.write({ key: submissionKey });
        throw items ? withoutItemValues(err, items) : toActivityFailure(err);
      }
      await journal.write({ key: submissionKey, sentAtMs, jobId });
      return { jobId, callbacks: willCallBack, adopted: false, sentAtMs };
    });
  };
}

/** A file on this machine is read from disk; one in S3 streams from it into the upload, never touching the disk. */
async function uploadOf(storage: Storage, file: LocalFile): Promise<LocalFileInput> {
  if (!isS3Location(file.path)) return file;
  const stored = storage.file(file.path);
  const bytes = await stored.size();
  // No key in the message: failures reach history. The batch's items were checked a moment ago.
  if (bytes === undefined) throw ApplicationFailure.nonRetryable('an S3 object of the batch was removed after it was checked', FAILURE_TYPES.manifestChanged);
  return { ...file, source: { bytes, read: () => stored.read(0, bytes) } };
}

async function findSubmitted(hume: HumeClient, key: string, sinceMs: number, signal: AbortSignal): Promise<InferenceJob | undefined> {
  for await (const job of hume.iterateJobs({ when: 'created_after', timestampMs: Math.max(0, sinceMs), sortBy: 'created', direction: 'asc' }, { signal })) {
    if (submissionKeyOf(job.request.callback_url) === key) return job;
  }
  return undefined;
}

const refusedOutright = (status = 500): boolean => status < 500 && status !== 408;

const requestBytes = (urls: string[], texts: string[]): number => [...urls, ...texts].reduce((sum, value) => sum + Buffer.byteLength(value), 0);

/**
 * A batch's failure is recorded in history, which must hold no item's URL, path or text: an
 * answer quoting one (a 400 naming the bad URL, a file that vanished, its upload name) names its
 * manifest line instead. A new failure, without the original's stack or cause, which would quote
 * them too; the classification (type, retryable, Retry-After) is kept.
 */
function withoutItemValues(err: unknown, items: ItemRecord[]): unknown {
  // Cancellation is the caller's decision and must stay one.
  if (err instanceof CancelledFailure) return err;
  const failure = toActivityFailure(err);
  const classified = failure instanceof ApplicationFailure ? failure : undefined;
  let message = failure instanceof Error ? failure.message : String(failure);
  for (const item of items) {
    for (const value of quotedForms(item)) {
      if (value.length >= MIN_REDACTED_CHARS) message = message.replaceAll(value, `<manifest line ${item.line}>`);
    }
  }
  return ApplicationFailure.create({
    message,
    type: classified?.type ?? (failure instanceof Error ? failure.name : 'Error'),
    nonRetryable: classified?.nonRetryable ?? false,
    nextRetryDelay: classified?.nextRetryDelay,
  });
}

/** How an item may come back in an answer: as given, as uploaded, or a URL by its path alone. */
function quotedForms(item: ItemRecord): string[] {
  if (item.kind === 'file') return [item.value, uploadFilename(item), basename(item.value)];
  if (item.kind === 'url' && URL.canParse(item.value)) return [item.value, new URL(item.value).pathname];
  return [item.value];
}

/** Shorter values (a one-word text) would blank unrelated words of the message. */
const MIN_REDACTED_CHARS = 8;
