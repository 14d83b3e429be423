/**
 * What the end-to-end scripts (chaos.ts, cluster.ts) share: driving a run to its end while
 * disturbances fire, and auditing afterwards what Hume holds and what the results folder says,
 * through a ResultStore, so a local folder and an S3 one are audited alike.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { parse as parseCsv } from 'csv-parse/sync';
import type { RunHandle } from '../src/client.js';
import type { HumeClient } from '../src/hume/client.js';
import { jobDir, OUTCOME_JSON, PREDICTIONS_JSON } from '../src/results/layout.js';
import type { BatchOutcome } from '../src/schemas/batch.js';
import type { ResultStore } from '../src/store/store.js';
import { submissionKeyOf } from '../src/webhook/token.js';
import type { RunProgress } from '../src/workflows/definitions.js';

/** No progress for this long means the run is stuck, not slow (a lost activity costs at most 1 minute). */
export const STALL_MS = 90_000;

export interface Disturbance<Name extends string = string> {
  name: Name;
  fire(): Promise<void>;
}

/**
 * Polls the run to its end, firing the disturbances one by one, evenly spread by jobs completed
 * (so the run cannot finish first). Fails when the run stops moving. Returns what was fired.
 */
export async function driveRun<Name extends string>(run: RunHandle, client: Client, events: Disturbance<Name>[], log: (m: string) => void, signal?: AbortSignal): Promise<Name[]> {
  const fired: Name[] = [];
  let progress: RunProgress | undefined;
  let lastLog = 0;
  let lastChange = { at: Date.now(), key: '' };
  for (;;) {
    signal?.throwIfAborted();
    // Fails while Temporal restarts: keep the last answer.
    progress = await run.progress().catch(() => progress);
    if (progress && ['completed', 'failed', 'cancelled'].includes(progress.state)) return fired;
    if (progress && Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      log(`${progress.state}: jobs ${progress.jobs.completed}/${progress.jobs.planned} done, ${progress.jobs.inFlight} in flight, ${progress.humeJobsCreated} Hume jobs created`);
    }
    const key = JSON.stringify([progress?.state, progress?.jobs, progress?.humeJobsCreated]);
    if (key !== lastChange.key) lastChange = { at: Date.now(), key };
    else if (Date.now() - lastChange.at > STALL_MS) throw new Error(await diagnoseStall(client, progress));
    const next = events[fired.length];
    const due = progress && next && progress.jobs.planned > 0 && progress.jobs.completed >= ((fired.length + 1) * progress.jobs.planned) / (events.length + 1);
    if (due) {
      log(`${next.name} at ${progress?.jobs.completed}/${progress?.jobs.planned} jobs`);
      await next.fire();
      fired.push(next.name);
    } else {
      await sleep(500);
    }
  }
}

/** Why a run stopped moving: children the parent still counts as in flight that are no longer running. */
async function diagnoseStall(client: Client, progress: RunProgress | undefined): Promise<string> {
  const running: string[] = [];
  for await (const execution of client.workflow.list({ query: 'ExecutionStatus = "Running" AND WorkflowType = "humeJob"' })) {
    running.push(execution.workflowId);
  }
  return (
    `run stalled for ${STALL_MS / 1000} s: progress ${JSON.stringify(progress?.jobs)}, humeJob children still running: ` +
    `${running.length ? running.join(', ') : 'none'}` +
    (progress && progress.jobs.inFlight > running.length ? ' — the parent lost the reports of finished batches' : '')
  );
}

/** Every job the server holds, and the submission keys that own more than one. */
export async function listHumeJobs(hume: HumeClient) {
  const byKey = new Map<string, string[]>();
  let count = 0;
  for await (const job of hume.iterateJobs({ pageSize: 500 })) {
    count++;
    const key = submissionKeyOf(job.request.callback_url) ?? `(no key) ${job.job_id}`;
    byKey.set(key, [...(byKey.get(key) ?? []), job.job_id]);
  }
  const duplicates = [...byKey].filter(([, ids]) => ids.length > 1).map(([key, jobIds]) => ({ key, jobIds }));
  return { count, duplicates };
}

interface IndexRow {
  id: string;
  line: number;
  batch: number;
  job_id: string;
  status: string;
}

/** Reads the results folder back: index, predictions behind every item, CSVs and summary. */
export async function auditResults(store: ResultStore, validLines: number[]) {
  const index: IndexRow[] = [];
  for await (const line of store.readLines('index.jsonl')) if (line) index.push(JSON.parse(line) as IndexRow);
  const completed = index.filter((row) => row.status === 'completed');
  const lines = new Set(completed.map((row) => row.line));

  // Each completed item points, through its batch's outcome, at a source in predictions.json.
  let withPredictions = 0;
  const outcomes = new Map<string, Promise<[BatchOutcome, unknown[]]>>();
  for (const row of completed) {
    const folder = jobDir(row.batch, row.job_id);
    if (!outcomes.has(folder)) {
      outcomes.set(folder, Promise.all([store.readJson(`${folder}/${OUTCOME_JSON}`) as Promise<BatchOutcome>, store.readJson(`${folder}/${PREDICTIONS_JSON}`) as Promise<unknown[]>]));
    }
    const [outcome, predictions] = await outcomes.get(folder)!;
    const source = outcome.items.find((item) => item.line === row.line)?.sourceIndex;
    if (source !== undefined && predictions[source] !== undefined) withPredictions++;
  }

  const summary = (await store.readJson('summary.json')) as { items: Record<string, number>; humeJobsCreated: number; csv: Record<string, { path: string; rows: number }> };
  const ids = new Set(completed.map((row) => row.id));
  const csv: Record<string, { rows: number; summaryRows: number; unknownIds: number }> = {};
  for (const [model, { path, rows }] of Object.entries(summary.csv)) {
    const chunks: Buffer[] = [];
    for await (const chunk of store.readBytes(path)) chunks.push(chunk);
    const records = parseCsv(Buffer.concat(chunks), { columns: true }) as Array<{ item_id: string }>;
    csv[model] = { rows: records.length, summaryRows: rows, unknownIds: records.filter((r) => !ids.has(r.item_id)).length };
  }
  return {
    indexRows: index.length,
    completed: completed.length,
    notCompleted: index.length - completed.length,
    distinctCompletedIds: ids.size,
    missingLines: validLines.filter((line) => !lines.has(line)).length,
    withPredictions,
    summaryItems: summary.items,
    summaryHumeJobs: summary.humeJobsCreated,
    csv,
  };
}
