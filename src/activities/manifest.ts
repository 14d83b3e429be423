/**
 * Planning activities: turn a manifest (or inline items) into a plan of batches before anything
 * is submitted, refusing the run with every invalid line listed; and give each batch its items
 * back at submit, from the exact bytes the plan hashed.
 */
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { JobConfig } from '../hume/schemas.js';
import {
  JsonlWriter,
  type ManifestPlan,
  ManifestError,
  type ValidationContext,
  detectFormat,
  itemsOfSlice,
  planManifestFile,
  readJsonlPage,
} from '../manifest/index.js';
import { readSlice, sha256 } from '../manifest/slices.js';
import { isPermanentReadFailure, readFailure } from '../store/read-failure.js';
import { StorageConfigError } from '../store/s3-client.js';
import { INVALID_JSONL, PLAN_JSON, PLAN_JSONL } from '../results/layout.js';
import { claimRunFolder, type Planner, releaseRunFolder, RunOwner } from '../results/owner.js';
import {
  BatchLimits,
  type BatchRange,
  DEFAULT_BATCH_LIMITS,
  type InvalidLineRef,
  type ItemRecord,
  type ManifestFormat,
  type ManifestItem,
  type ManifestRef,
  type PlanResult,
} from '../schemas/batch.js';
import { describeIssues } from '../schemas/issues.js';
import { unwritableFailure } from '../store/fs.js';
import { LocationError, normalizeLocation, parentLocation, resolveLocation } from '../store/location.js';
import { createStorage, type Storage } from '../store/storage.js';
import type { ResultStore } from '../store/store.js';
import { FAILURE_TYPES } from '../workflows/definitions.js';

export interface PlanManifestInput {
  /** The run's folder (a path or `s3://bucket/prefix`): `plan.jsonl`, `invalid.jsonl` (and `manifest.jsonl` for inline items) go here. */
  runDir: string;
  /** A path or `s3://bucket/key`. */
  manifest?: { path: string; format?: ManifestFormat };
  /** Inline items; relative file paths resolve against the worker's working directory. */
  items?: ManifestItem[];
  config: JobConfig;
  limits?: Partial<BatchLimits>;
  allowedRoot?: string;
  /** Plan the valid items and list the invalid ones, instead of refusing the run. @default false */
  skipInvalid?: boolean;
  /**
   * The run planning for: its workflow id and `workflowInfo().firstExecutionRunId`. The first
   * planning writes it to `<runDir>/owner.json`; planning again succeeds only for the same run.
   * @default the activity's workflow, with the first run id of its chain asked of the server
   */
  owner?: RunOwner;
}

/** Invalid lines kept in the result and the failure details; all of them are in `invalid.jsonl`. */
const INVALID_IN_RESULT = 1_000;
/** Invalid lines spelled out in a refusal's message. */
const INVALID_IN_MESSAGE = 20;

export function createManifestActivities(storage: Storage = createStorage()) {
  return {
    /**
     * A results folder that cannot be written (under a file, read-only, a full disk, a bucket
     * refused) fails the planning at once with RESULTS_UNWRITABLE: retrying would never make it writable.
     */
    async humePlanManifest(input: PlanManifestInput): Promise<PlanResult> {
      try {
        return await planManifest(storage, input);
      } catch (err) {
        throw unwritableFailure(err, input.runDir);
      }
    },

    /** A page of the plan: batches [offset, offset + limit). */
    async humeReadPlan(input: { planPath: string; offset: number; limit: number }): Promise<BatchRange[]> {
      return readJsonlPage<BatchRange>(storage.file(input.planPath).lines(), input.offset, input.limit);
    },
  };
}

/** A location given in input, or a non-retryable failure naming what is wrong with it. */
function locationOf(text: string, what: string): string {
  try {
    return normalizeLocation(text);
  } catch (err) {
    if (err instanceof LocationError) throw ApplicationFailure.nonRetryable(`${what}: ${err.message}`, FAILURE_TYPES.invalidConfig);
    throw err;
  }
}

async function planManifest(storage: Storage, input: PlanManifestInput): Promise<PlanResult> {
  const config = JobConfig.safeParse(input.config);
  if (!config.success) throw invalidConfig(`config: ${config.error.issues.map(describeIssue).join('; ')}`);
  if (config.data.models && Object.values(config.data.models).every((m) => m == null)) {
    throw invalidConfig('config.models: enable at least one model, or omit models to run all of them');
  }
  const limits = BatchLimits.safeParse({ ...DEFAULT_BATCH_LIMITS, ...input.limits });
  if (!limits.success) throw invalidConfig(`limits: ${limits.error.issues.map(describeIssue).join('; ')}`);

  if (!input.manifest === !input.items) throw invalidConfig('give exactly one of manifest or items');
  const owner = input.owner === undefined ? undefined : RunOwner.safeParse(input.owner);
  if (owner && !owner.success) throw invalidConfig(describeIssues(owner.error, 'owner'));

  const runDir = locationOf(input.runDir, 'runDir');
  const manifestPath = input.manifest && locationOf(input.manifest.path, 'manifest');
  // Refusals that need no folder come before the claim, which would otherwise hold the run id.
  const format = manifestPath ? formatOf(manifestPath, input.manifest?.format) : 'jsonl';
  // Bad storage configuration (credentials, bucket, permissions) is refused before anything else;
  // a manifest that cannot be read is refused by its first read, naming it.
  await checked(storage, runDir);
  const store = storage.folder(runDir);
  // Before anything is written to the folder: it is this run's, or the run is refused.
  const claim = await claimRunFolder(store, await plannerOf(owner?.data), new Date());
  if (!claim.claimed) {
    throw ApplicationFailure.nonRetryable(claim.reason, FAILURE_TYPES.runIdTaken, { runDir, owner: claim.owner, found: claim.found });
  }
  const source = manifestPath ? { path: manifestPath, format } : await inlineManifest(input, store);
  const planPath = store.resolve(PLAN_JSONL);
  const invalidPath = store.resolve(INVALID_JSONL);
  const ctx: ValidationContext = { baseDir: parentLocation(source.path), storage, config: config.data, allowedRoot: input.allowedRoot };

  const planFile = await JsonlWriter.create(store, PLAN_JSONL);
  const invalidFile = await JsonlWriter.create(store, INVALID_JSONL);
  const invalid: InvalidLineRef[] = [];
  let plan: ManifestPlan;
  try {
    plan = await planManifestFile(storage.file(source.path), source.format, ctx, limits.data, {
      batch: (range) => planFile.write(range),
      invalid: async (line) => {
        if (invalid.length < INVALID_IN_RESULT) invalid.push({ line: line.line, field: line.field, rule: line.rule });
        await invalidFile.write(line);
      },
      // The pass as a number: heartbeat details are counts and offsets only.
      progress: (line, pass) => heartbeat({ pass: pass === 'ids' ? 1 : 2, line }),
    });
  } catch (err) {
    await Promise.all([planFile.abort(), invalidFile.abort()]);
    if (!(err instanceof ManifestError)) throw err;
    // A refused run has no plan to follow, and leaves its id free for the next run.
    await releaseRunFolder(store, claim.owner, new Date());
    throw ApplicationFailure.nonRetryable(err.message, FAILURE_TYPES.invalidManifest);
  }
  await invalidFile.close();

  if (plan.items === 0) {
    // Nothing to run is bad input, not a completed run with an empty folder.
    await planFile.abort();
    await releaseRunFolder(store, claim.owner, new Date());
    throw ApplicationFailure.nonRetryable(`the manifest ${plan.manifest.path} has no items`, FAILURE_TYPES.invalidManifest, { invalidCount: 0, invalid: [] });
  }
  if (plan.invalidCount > 0 && !input.skipInvalid) {
    await planFile.abort();
    await releaseRunFolder(store, claim.owner, new Date());
    throw ApplicationFailure.nonRetryable(refusal(plan.manifest.path, plan.invalidCount, invalid, invalidPath), FAILURE_TYPES.invalidManifest, {
      invalidCount: plan.invalidCount,
      invalid,
    });
  }
  await planFile.close();
  const result: PlanResult = { ...plan, invalid, planPath };
  // Kept beside the plan, so a redrive can follow it later without the original input.
  await store.writeJson(PLAN_JSON, { ...result, invalid: [] });
  return result;
}

/**
 * A batch's items, re-read from exactly its slice of the manifest. Refuses when the slice's bytes
 * are not the ones planned, or when items valid at planning are not valid any more (a file
 * removed since), so a batch never silently shrinks.
 */
export async function loadBatchItems(manifest: ManifestRef, range: BatchRange, ctx: ValidationContext): Promise<ItemRecord[]> {
  const where = `lines ${range.fromLine}-${range.toLine} (batch ${range.index})`;
  const storage = (ctx.storage ??= createStorage());
  const bytes = await readSlice(storage.file(manifest.path), range.byteStart, range.byteEnd).catch((err: unknown) => {
    if (!isPermanentReadFailure(err)) throw err;
    throw ApplicationFailure.nonRetryable(`cannot read the manifest ${manifest.path} (${readFailure(err)})`, FAILURE_TYPES.manifestUnreadable);
  });
  if (sha256(bytes) !== range.sliceSha256) {
    throw ApplicationFailure.nonRetryable(`the manifest ${manifest.path} changed since the run was planned: ${where} differ; restore those lines as planned, then redrive the run to re-run them (or start a new run for the edited manifest)`, FAILURE_TYPES.manifestChanged);
  }
  const sliced = await itemsOfSlice(bytes, manifest, range, ctx);
  const only = range.lines && new Set(range.lines);
  const items = only ? sliced.items.filter((item) => only.has(item.line)) : sliced.items;
  const { invalid } = sliced;
  if (items.length !== range.items) {
    const now = invalid.slice(0, INVALID_IN_MESSAGE).map(describeLine).join('; ');
    throw ApplicationFailure.nonRetryable(
      `the manifest ${manifest.path}, ${where}: ${range.items} items were valid when planned, ${items.length} are now (${now})`,
      FAILURE_TYPES.manifestChanged,
    );
  }
  return items;
}

/**
 * Who plans: the owner given, else the activity's workflow. Activity info has the workflow's
 * current run id, not the first run id of its chain, so that is asked of the server. Without an
 * answer the current run id stands in: planning normally runs in the chain's first run, where
 * the two are the same; only a re-planning after a reset or a workflow retry would then be
 * refused, never a new run with the same workflow id accepted. Outside any workflow: a planner no
 * one else matches.
 */
async function plannerOf(owner: RunOwner | undefined): Promise<Planner> {
  if (owner) return owner;
  let context: Context | undefined;
  try {
    context = Context.current();
  } catch {
    // Not in an activity (a dry run).
  }
  const execution = context?.info.inWorkflow ? context.info.workflowExecution : undefined;
  if (!context || !execution) return { workflowId: null, firstExecutionRunId: randomUUID() };
  return { workflowId: execution.workflowId, firstExecutionRunId: await firstRunIdOf(context, execution) };
}

async function firstRunIdOf(context: Context, execution: { workflowId: string; runId: string }): Promise<string> {
  let client: Context['client'];
  try {
    client = context.client;
  } catch {
    return execution.runId; // a MockActivityEnvironment without a client
  }
  try {
    const { workflowExecutionInfo } = await client.workflowService.describeWorkflowExecution({ namespace: client.options.namespace, execution });
    if (workflowExecutionInfo?.firstRunId) return workflowExecutionInfo.firstRunId;
  } catch (err) {
    context.log.warn('cannot ask the server for the first run id of the planning workflow; using its run id', { error: String(err) });
  }
  return execution.runId;
}

/** Storage refusing the run folder fails the planning for good, in one line. */
async function checked(storage: Storage, runDir: string): Promise<void> {
  try {
    await storage.check(runDir);
  } catch (err) {
    if (err instanceof StorageConfigError) throw ApplicationFailure.nonRetryable(err.message, FAILURE_TYPES.storageUnusable);
    throw err;
  }
}

function formatOf(path: string, given: ManifestFormat | undefined): ManifestFormat {
  try {
    return given ?? detectFormat(path);
  } catch (err) {
    throw ApplicationFailure.nonRetryable((err as Error).message, FAILURE_TYPES.invalidManifest);
  }
}

/** The inline items written to `<runDir>/manifest.jsonl`, planned as a manifest. */
async function inlineManifest(input: PlanManifestInput, store: ResultStore): Promise<{ path: string; format: ManifestFormat }> {
  // Absolute file paths: the file now lives in the run folder, not where the caller's paths were meant.
  const writer = await JsonlWriter.create(store, INLINE_MANIFEST);
  for (const item of input.items ?? []) await writer.write(item.file ? { ...item, file: resolveLocation(process.cwd(), item.file) } : item);
  await writer.close();
  return { path: store.resolve(INLINE_MANIFEST), format: 'jsonl' };
}

const INLINE_MANIFEST = 'manifest.jsonl';

function refusal(path: string, count: number, invalid: InvalidLineRef[], invalidPath: string): string {
  const shown = invalid.slice(0, INVALID_IN_MESSAGE).map(describeLine);
  const more = count > shown.length ? [`… and ${count - shown.length} more (see ${invalidPath})`] : [];
  return [`the manifest ${path} has ${count} invalid line${count === 1 ? '' : 's'}:`, ...shown, ...more].join('\n');
}

/** Names the line, field and rule, not the value: the message is recorded in history. */
function describeLine(line: InvalidLineRef): string {
  return `line ${line.line}: ${line.field}: ${line.rule}`;
}

function describeIssue(issue: { path: PropertyKey[]; message: string }): string {
  return `${issue.path.map(String).join('.')}: ${issue.message}`;
}

function invalidConfig(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, FAILURE_TYPES.invalidConfig);
}

/** Heartbeats when running as an activity; planning is also usable outside one. */
function heartbeat(details: unknown): void {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return;
  }
  context.heartbeat(details);
}
