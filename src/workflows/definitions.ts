/**
 * Every message of our workflows, shared by workflow code, the webhook receiver, client helpers
 * and tests. Only workflow-safe imports here: this module is bundled into the sandbox.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

export type { HumeJobInput, HumeJobResult, StoredResults, LocalFile } from '../schemas/humeJob.js';

/**
 * Search attributes set when a run asks for them (`searchAttributes: true`); they must be
 * registered on the server first (`temporal operator search-attribute create`, or the dev
 * server's `--search-attribute`), which is why they are opt-in. Memo needs no registration and
 * is always set.
 */
export const HUME_RUN_ID = defineSearchAttributeKey('HumeRunId', SearchAttributeType.KEYWORD);
export const HUME_JOB_IDS = defineSearchAttributeKey('HumeJobIds', SearchAttributeType.KEYWORD_LIST);
/** The run's state (`running`, `paused`, `completed`, …): find runs that paused themselves. */
export const HUME_RUN_STATE = defineSearchAttributeKey('HumeRunState', SearchAttributeType.KEYWORD);
export const SEARCH_ATTRIBUTES = { HumeRunId: 'Keyword', HumeJobIds: 'KeywordList', HumeRunState: 'Keyword' } as const;

/** Task queue used when none is configured. */
export const DEFAULT_TASK_QUEUE = 'temporal-hume';

/** Sent by the webhook receiver when Hume calls back. A hint only: the workflow confirms with Hume. */
export interface JobFinished {
  jobId: string;
  status: string;
}
export const jobFinishedSignal = defineSignal<[JobFinished]>('jobFinished');

/**
 * A local submit that would have to wait (for the request limiter) or send a large body gives the
 * submit to the scheduled activity at once, before anything is written or sent; never a job's end.
 */
export const SUBMIT_HANDED_OVER = 'SUBMIT_HANDED_OVER';
/** A local fetch that found no free request or transfer slot gives the fetch to the scheduled activity, having sent nothing. */
export const FETCH_HANDED_OVER = 'FETCH_HANDED_OVER';

/** Failure types our workflows end with, for callers to match on. */
export const FAILURE_TYPES = {
  /** Input that no retry can fix; the message names the field. */
  invalidInput: 'INVALID_INPUT',
  /** Every attempt's Hume job ended FAILED. */
  jobFailed: 'HUME_JOB_FAILED',
  /** Hume refused the account (key rejected, usage limit, no credit): the run pauses, the batch runs again on resume. */
  accountBlocked: 'HUME_ACCOUNT_BLOCKED',
  /** A run ended failed (too many items failed, or it could not go on); its folder is written. Details: the HumeBatchResult. */
  runFailed: 'RUN_FAILED',
  /** A config, limit or location no retry can fix; the message names it. */
  invalidConfig: 'INVALID_CONFIG',
  /** The manifest was refused at planning (unreadable, no items, invalid lines). Details: `{ invalidCount, invalid }` (lines without values). */
  invalidManifest: 'INVALID_MANIFEST',
  /** A batch's slice of the manifest is not the one planned (edited mid-run, or a file removed). */
  manifestChanged: 'MANIFEST_CHANGED',
  /** A batch's slice of the manifest cannot be read any more (gone, or access refused). */
  manifestUnreadable: 'MANIFEST_UNREADABLE',
  /** The run folder belongs to another run. Details: `{ runDir, owner, found }`. */
  runIdTaken: 'RUN_ID_TAKEN',
  /** The results folder cannot be written and no retry can change that (a permission, a full disk, a refused bucket). Details: `{ path | uri, code }`. */
  resultsUnwritable: 'RESULTS_UNWRITABLE',
  /** The results location's storage cannot be used (no credentials, no such bucket, access denied); checked before anything is submitted. */
  storageUnusable: 'STORAGE_UNUSABLE',
  /** Hume's predictions are not what Hume documents: fetching them again would fail the same way. */
  invalidPredictions: 'INVALID_PREDICTIONS',
  /** A batch's workflow id is held by a workflow of another run. */
  batchAlreadyRunning: 'BATCH_ALREADY_RUNNING',
  /** A redrive found no finished run, or nothing in it to run again. */
  nothingToRedrive: 'NOTHING_TO_REDRIVE',
} as const;

export type FailureType = (typeof FAILURE_TYPES)[keyof typeof FAILURE_TYPES];

/** Names of our metrics (the SDK's metric meter; see src/metrics.ts). Here, so workflow code may use them. */
export const METRICS = {
  /** Requests to Hume, by call (`startJob`, `getJob`, …) and status (HTTP status, `network`, `timeout`, `cancelled`). */
  requests: 'hume_requests',
  /** How long each request took, by call, ms. */
  requestLatency: 'hume_request_latency',
  /** Bytes uploaded to Hume (texts and files), by call. */
  bytesSent: 'hume_bytes_sent',
  /** Bytes downloaded from Hume (predictions, artifacts, answers), by call. */
  bytesReceived: 'hume_bytes_received',
  /** Submits that found their job created by an earlier try and adopted it instead of creating another. */
  adoptions: 'hume_job_adoptions',
  /** Jobs submitted again after Hume ended one FAILED. */
  resubmissions: 'hume_job_resubmissions',
  /** From a job's submission to its COMPLETED or FAILED, ms. */
  jobLatency: 'hume_job_latency',
  /** Callbacks the receiver took (`accepted`), or refused (`rejected`, by status). */
  callbacks: 'hume_callbacks',
} as const;

export type HumeJobPhase = 'submitting' | 'backing off' | 'waiting' | 'fetching' | 'completed' | 'failed' | 'blocked' | 'cancelled';

export interface HumeJobStatus {
  phase: HumeJobPhase;
  /** The current Hume job, once submitted. */
  jobId?: string;
  /** Hume's last confirmed state of the current job. */
  humeStatus?: string;
  attempt: number;
  maxJobAttempts: number;
  jobIds: string[];
  lastError?: string;
  polls: number;
  callbacks: number;
  /** State checks Hume did not answer (an outage is waited out on timers). */
  checkFailures: number;
}
export const statusQuery = defineQuery<HumeJobStatus>('status');

// ---------------------------------------------------------------------------------------------
// humeBatch
// ---------------------------------------------------------------------------------------------
export type { HumeBatchInput, PlanResult, BatchRange } from '../schemas/batch.js';

/** Sent by each batch's `humeJob` child to its parent, by workflow id, so it survives continue-as-new. */
export interface BatchFinished {
  batch: number;
  /** The child that reports: a batch that runs again after a pause has a new one. */
  workflowId?: string;
  /** `blocked`: Hume refused the account; the batch did not run and runs again on resume. */
  status: 'completed' | 'failed' | 'blocked';
  /** Every Hume job the batch created (more than one after FAILED resubmissions). */
  jobIds: string[];
  items: { completed: number; failed: number };
  error?: string;
}
export const batchFinishedSignal = defineSignal<[BatchFinished]>('batchFinished');
/**
 * Sent by a parent run to the children it carried across continue-as-new: a lean child
 * (src/workflows/lean.ts) reports its completion by `batchFinished` only once asked, since the
 * run that started it hears of it from its close.
 */
export const reportWhenDoneSignal = defineSignal('reportWhenDone');

export type RunState = 'planning' | 'running' | 'paused' | 'draining' | 'finalizing' | 'completed' | 'failed' | 'cancelled';

export interface RunProgress {
  runId: string;
  /** The run's results folder. */
  runDir: string;
  state: RunState;
  items: { total: number; valid: number; invalid: number; completed: number; failed: number; inFlight: number; pending: number };
  jobs: { planned: number; completed: number; failed: number; inFlight: number; pending: number };
  humeJobsCreated: number;
  resubmissions: number;
  maxJobsInFlight: number;
  /** The most recent failures (batch and why), newest last. */
  failures: Array<{ batch: number; error: string }>;
  /** The batches in flight, lowest first, at most 20: their jobs are `workflowId`s to ask for details. */
  inFlightBatches: Array<{ batch: number; workflowId: string }>;
  /** Why the run paused by itself (circuit breaker): fix the cause, then `resume`. */
  pausedBy?: { reason: string; at: number; batch: number };
  /** Why the run could not go on (it finalizes its folder, then fails). */
  error?: string;
  startedAt: number;
  elapsedMs: number;
  /** Items finished per second since the run started. */
  itemsPerSecond: number;
  /** Estimated time to finish at that rate; undefined until something finished. */
  etaMs?: number;
  continuedAsNew: number;
}
export const progressQuery = defineQuery<RunProgress>('progress');

export const pauseUpdate = defineUpdate<RunProgress, []>('pause');
export const resumeUpdate = defineUpdate<RunProgress, []>('resume');
export const setMaxJobsInFlightUpdate = defineUpdate<RunProgress, [SetMaxJobsInFlight]>('setMaxJobsInFlight');
export const setOnCancelUpdate = defineUpdate<RunProgress, [SetOnCancel]>('setOnCancel');

export interface HumeBatchResult {
  runId: string;
  runDir: string;
  state: 'completed' | 'failed' | 'cancelled';
  summary: RunSummary;
}
import type { RunSummary } from '../results/summary.js';
import type { SetMaxJobsInFlight, SetOnCancel } from '../schemas/updates.js';
export type { RunSummary };
