/**
 * Every message of our workflows, shared by workflow code, the webhook receiver, client helpers
 * and tests. Only workflow-safe imports here: this module is bundled into the sandbox.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';

export type { HumeJobInput, HumeJobResult, StoredResults, SourceSummary, LocalFile } from '../schemas/humeJob.js';

/** Task queue used when none is configured. */
export const DEFAULT_TASK_QUEUE = 'temporal-hume';

/** Sent by the webhook receiver when Hume calls back. A hint only: the workflow confirms with Hume. */
export interface JobFinished {
  jobId: string;
  status: string;
}
export const jobFinishedSignal = defineSignal<[JobFinished]>('jobFinished');

export type HumeJobPhase = 'submitting' | 'waiting' | 'fetching' | 'completed' | 'failed' | 'cancelled';

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
}
export const statusQuery = defineQuery<HumeJobStatus>('status');
