/** Creates the Hume job for one submission, and never a second one for the same submission key. */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { HumeClient } from '../hume/client.js';
import type { InferenceBaseRequest, InferenceJob } from '../hume/schemas.js';
import { HumeJobInput } from '../schemas/humeJob.js';
import { describeIssues } from '../schemas/issues.js';
import { buildCallbackUrl, NO_RECEIVER_BASE_URL, submissionKeyOf } from '../webhook/token.js';
import { loadBatch, sourcesOf } from './batch-items.js';
import { humeCall } from './failures.js';
import { whileHeartbeating } from './heartbeat.js';

export interface CallbackConfig {
  /** Public base URL of the webhook receiver. */
  baseUrl: string;
  /** Signing secrets; the first signs, all verify (rotation). */
  secrets: readonly string[];
}

export interface SubmitJobInput {
  input: HumeJobInput;
  /** Unique per submission: a resubmission after FAILED uses a new key on purpose. */
  submissionKey: string;
}

export interface SubmittedJob {
  jobId: string;
  /** Whether Hume will call back; without callbacks the workflow polls sooner. */
  callbacks: boolean;
  /** True when a retried submit found the job an earlier attempt had created. */
  adopted: boolean;
}

/** How far before this activity was first scheduled an earlier attempt's job may have been created. */
const CLOCK_SKEW_MS = 60_000;

export function createSubmitJob(hume: HumeClient, callbacks: CallbackConfig | undefined) {
  return async function humeSubmitJob({ input, submissionKey }: SubmitJobInput): Promise<SubmittedJob> {
    const parsed = HumeJobInput.safeParse(input);
    if (!parsed.success) {
      throw ApplicationFailure.nonRetryable(`invalid humeJob input: ${describeIssues(parsed.error)}`, 'INVALID_INPUT');
    }
    const { info } = Context.current();
    const job = parsed.data;
    const workflowId = info.workflowExecution?.workflowId;
    // Every job carries its submission key in the callback URL, the one field Hume echoes back;
    // in polling mode that URL points nowhere.
    const callbackUrl =
      workflowId &&
      buildCallbackUrl(callbacks?.baseUrl ?? NO_RECEIVER_BASE_URL, workflowId, callbacks?.secrets[0], submissionKey);
    const willCallBack = callbacks !== undefined && !!callbackUrl;

    return whileHeartbeating(async (signal) => {
      // An earlier attempt may have reached Hume and then failed ambiguously (timeout, reset, crash).
      if (info.attempt > 1 && callbackUrl) {
        const existing = await humeCall(() => findSubmitted(hume, submissionKey, info.scheduledTimestampMs - CLOCK_SKEW_MS, signal));
        if (existing) return { jobId: existing.job_id, callbacks: willCallBack, adopted: true };
      }
      const { urls, texts, files } = job.batch
        ? sourcesOf(await loadBatch(job.batch, job.config))
        : { urls: job.urls ?? [], texts: job.texts ?? [], files: job.files ?? [] };
      const request: InferenceBaseRequest = {
        ...job.config,
        ...(urls.length ? { urls } : {}),
        ...(texts.length ? { text: texts } : {}),
        ...(callbackUrl ? { callback_url: callbackUrl } : {}),
      };
      const jobId = await humeCall(() =>
        files.length ? hume.startJobWithFiles(files, request, { signal }) : hume.startJob(request, { signal }),
      );
      return { jobId, callbacks: willCallBack, adopted: false };
    });
  };
}

async function findSubmitted(hume: HumeClient, key: string, sinceMs: number, signal: AbortSignal): Promise<InferenceJob | undefined> {
  for await (const job of hume.iterateJobs({ when: 'created_after', timestampMs: sinceMs, sortBy: 'created', direction: 'asc' }, { signal })) {
    if (submissionKeyOf(job.request.callback_url) === key) return job;
  }
  return undefined;
}
