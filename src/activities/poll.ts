/** Reads a job's state from Hume: the workflow's only source of truth (callbacks are hints). */
import { Context } from '@temporalio/activity';
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
    const { state } = await humeCall(() => hume.getJob(jobId, { signal: Context.current().cancellationSignal }));
    // Every state variant is loose: read the fields a status may carry without trusting their presence.
    const fields = state as { message?: unknown; created_timestamp_ms?: unknown; started_timestamp_ms?: unknown; ended_timestamp_ms?: unknown };
    const number = (value: unknown) => (typeof value === 'number' ? value : undefined);
    return {
      status: state.status,
      ...(typeof fields.message === 'string' ? { message: fields.message } : {}),
      createdMs: number(fields.created_timestamp_ms),
      startedMs: number(fields.started_timestamp_ms),
      endedMs: number(fields.ended_timestamp_ms),
    };
  };
}
