/** Reads a job's state from Hume: the workflow's only source of truth (callbacks are hints). */
import type { HumeClient } from '../hume/client.js';
import { humeCall } from './failures.js';

export interface JobSnapshot {
  status: string;
  message?: string;
  createdMs?: number;
  startedMs?: number;
  endedMs?: number;
}

export function createCheckJob(hume: HumeClient) {
  return async function humeCheckJob({ jobId }: { jobId: string }): Promise<JobSnapshot> {
    const { state } = await humeCall(() => hume.getJob(jobId));
    const field = (name: string) => {
      const value = (state as Record<string, unknown>)[name];
      return typeof value === 'number' || typeof value === 'string' ? value : undefined;
    };
    return {
      status: state.status,
      message: field('message') as string | undefined,
      createdMs: field('created_timestamp_ms') as number | undefined,
      startedMs: field('started_timestamp_ms') as number | undefined,
      endedMs: field('ended_timestamp_ms') as number | undefined,
    };
  };
}
