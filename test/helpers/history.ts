/** Looking inside fetched workflow histories: for secrets, plaintext and unencrypted payloads. */
import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

/** Every string in a history, with payload bytes decoded, so a secret cannot hide in base64. */
export function decodeAll(value: unknown): string {
  const parts: string[] = [];
  const visit = (v: unknown) => {
    if (v instanceof Uint8Array) parts.push(Buffer.from(v).toString('utf8'));
    else if (typeof v === 'string') parts.push(v);
    else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') Object.values(v).forEach(visit);
  };
  visit(value);
  return parts.join('\n');
}

/** Every Payload in a history (inputs, results, signals, memos, headers, failure details), with where it sits. */
export function payloadsIn(value: unknown, path = ''): Array<{ path: string; payload: Payload }> {
  if (!value || typeof value !== 'object' || value instanceof Uint8Array) return [];
  const record = value as Record<string, unknown>;
  if (record.data instanceof Uint8Array && record.metadata && typeof record.metadata === 'object') {
    return [{ path, payload: record as Payload }];
  }
  return Object.entries(record).flatMap(([key, child]) => payloadsIn(child, `${path}.${key}`));
}

export const encodingOf = (payload: Payload) => Buffer.from(payload.metadata?.encoding ?? []).toString();

/**
 * The histories of every execution on a task queue (each run of a parent that continued-as-new,
 * every child), raw as the server stores them. Waits until visibility lists `atLeast` of them.
 */
export async function historiesOnTaskQueue(client: Client, taskQueue: string, atLeast: number) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const executions: Array<{ workflowId: string; runId: string }> = [];
    for await (const execution of client.workflow.list({ query: `TaskQueue = "${taskQueue}"` })) executions.push(execution);
    if (executions.length >= atLeast) {
      return Promise.all(
        executions.map(async ({ workflowId, runId }) => ({ workflowId, runId, history: await client.workflow.getHandle(workflowId, runId).fetchHistory() })),
      );
    }
    if (Date.now() > deadline) throw new Error(`visibility lists ${executions.length} executions on ${taskQueue}, expected ${atLeast}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * A history's events by type (`ACTIVITY_TASK_SCHEDULED`, `MARKER_RECORDED`, …), workflow task
 * events left out: what the workflow's own commands and the world's messages cost.
 */
export function commandEvents(history: EventsOf): string[] {
  return eventTypes(history).filter((type) => !type.startsWith('WORKFLOW_TASK_'));
}

/**
 * What each completed workflow task did: the events after its WORKFLOW_TASK_COMPLETED (its
 * commands, then what the world sent before the next task), workflow task events left out.
 */
export function eventsByTask(history: EventsOf): string[][] {
  const tasks: string[][] = [];
  for (const type of eventTypes(history)) {
    if (type === 'WORKFLOW_TASK_COMPLETED') tasks.push([]);
    else if (!type.startsWith('WORKFLOW_TASK_')) tasks.at(-1)?.push(type);
  }
  return tasks;
}

type EventsOf = { events?: Array<{ eventType?: unknown }> | null };
const eventTypes = (history: EventsOf): string[] =>
  (history.events ?? []).map((event) => (typeof event.eventType === 'string' ? event.eventType : temporal.api.enums.v1.EventType[Number(event.eventType)]!).replace(/^EVENT_TYPE_/, ''));

/**
 * A job with a callback, texts only, start to end (workflow tasks aside): the lean-job patch's
 * marker and TemporalChangeVersion, the submit as a local activity's marker inside the first task,
 * the silence timer (left to lapse with the job, not cancelled), the callback, the fetch (a local
 * activity's marker too: a few short texts' predictions are small).
 */
export const CALLBACK_JOB_EVENTS = [
  'WORKFLOW_EXECUTION_STARTED',
  'MARKER_RECORDED',
  'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES',
  'MARKER_RECORDED',
  'TIMER_STARTED',
  'WORKFLOW_EXECUTION_SIGNALED',
  'MARKER_RECORDED',
  'WORKFLOW_EXECUTION_COMPLETED',
];
