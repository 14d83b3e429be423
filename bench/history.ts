/**
 * History cost of a finished run: events and encoded bytes of every `humeJob` child and of every
 * run of the `humeBatch` parent (walked back through continue-as-new), shared out per job.
 */
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { pool } from './pool.js';
import { type Row, rowsOf } from './table.js';

interface HistoryFigures {
  /** Child events plus the parent's events divided by the jobs. */
  eventsPerJob: number;
  bytesPerJob: number;
  childEventsPerJob: number;
  parentEventsPerJob: number;
  /** Events of each parent run, oldest first: every run but the last ended in continue-as-new. */
  parentRunEvents: number[];
}

interface Size {
  events: number;
  bytes: number;
}

/** Issue 15's target (moonshot 20). */
const TARGET_EVENTS_PER_JOB = 25;
/** Histories fetched at once: enough to hide round trips, few enough to spare the dev server. */
const FETCH_CONCURRENCY = 8;

async function measureHistory(client: Client, workflowId: string, jobs: number): Promise<HistoryFigures> {
  const parentRuns = await parentChain(client, workflowId);
  const children = await pool(jobs, FETCH_CONCURRENCY, async (batch) =>
    sizeOf(await client.workflow.getHandle(`${workflowId}/batch-${batch}`).fetchHistory()),
  );
  const sum = (sizes: Size[], key: keyof Size) => sizes.reduce((n, s) => n + s[key], 0);
  const parentEvents = sum(parentRuns, 'events');
  return {
    eventsPerJob: (sum(children, 'events') + parentEvents) / jobs,
    bytesPerJob: (sum(children, 'bytes') + sum(parentRuns, 'bytes')) / jobs,
    childEventsPerJob: sum(children, 'events') / jobs,
    parentEventsPerJob: parentEvents / jobs,
    parentRunEvents: parentRuns.map((run) => run.events),
  };
}

/** The parent's runs, oldest first: from the latest run back along `continuedExecutionRunId`. */
async function parentChain(client: Client, workflowId: string): Promise<Size[]> {
  return (await parentHistories(client, workflowId)).map(sizeOf);
}

async function parentHistories(client: Client, workflowId: string): Promise<proto.temporal.api.history.v1.IHistory[]> {
  const runs: proto.temporal.api.history.v1.IHistory[] = [];
  let runId: string | undefined;
  do {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    runs.unshift(history);
    runId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  } while (runId);
  return runs;
}

/**
 * How long the run spent planning and finalizing (its first and last activities), by the server's
 * clock, and the events of each of its runs (continue-as-new), oldest first: one walk of the chain.
 */
export async function runPhases(client: Client, workflowId: string): Promise<{ planMs: number; finalizeMs: number; runEvents: number[] }> {
  const runs = await parentHistories(client, workflowId);
  return {
    planMs: activityMs(runs[0], 'humePlanManifest'),
    finalizeMs: activityMs(runs.at(-1), 'humeFinalizeRun'),
    runEvents: runs.map((run) => run.events?.length ?? 0),
  };
}

/**
 * From an activity type's first scheduling to its last completion, in ms (retries inside one
 * activity add no events; a failed one scheduled again by the workflow is counted in); 0 when it
 * never completed in this history.
 */
function activityMs(history: proto.temporal.api.history.v1.IHistory | undefined, type: string): number {
  const events = history?.events ?? [];
  const ms = (t: proto.google.protobuf.ITimestamp | null | undefined) => Number(t?.seconds ?? 0) * 1000 + Math.round((t?.nanos ?? 0) / 1e6);
  const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === type);
  const ids = new Set(scheduled.map((e) => Number(e.eventId)));
  const done = events.filter((e) => ids.has(Number(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? -1))).at(-1);
  return scheduled[0] && done ? ms(done.eventTime) - ms(scheduled[0].eventTime) : 0;
}

function sizeOf(history: proto.temporal.api.history.v1.IHistory): Size {
  return { events: history.events?.length ?? 0, bytes: proto.temporal.api.history.v1.History.encode(history).finish().byteLength };
}

/** The history figures of a finished run as table rows. */
export async function historyRows(client: Client, workflowId: string, jobs: number, name: string): Promise<Row[]> {
  const h = await measureHistory(client, workflowId, jobs);
  const row = rowsOf('4 history', name);
  return [
    row('events per job (child + parent share)', h.eventsPerJob.toFixed(1), `<= ${TARGET_EVENTS_PER_JOB}`, h.eventsPerJob <= TARGET_EVENTS_PER_JOB),
    row('events per job: child / parent share', `${h.childEventsPerJob.toFixed(1)} / ${h.parentEventsPerJob.toFixed(1)}`),
    row('history bytes per job', `${(h.bytesPerJob / 1024).toFixed(1)} KiB`),
    row('parent events per run (continue-as-new)', h.parentRunEvents.join(' -> ')),
  ];
}
