/**
 * Typed helpers for users' client code: start a run or a single job, follow it, steer it, and
 * await its summary. Input is validated here, before anything reaches Temporal.
 */
import { dirname } from 'node:path';
import { normalizeLocation } from './store/location.js';
import { type Client, isGrpcServiceError, ServiceError, type WorkflowHandle } from '@temporalio/client';
import { HumeBatchInput, HumeJobInput } from './schemas/inputs.js';
import { describeIssues } from './schemas/issues.js';
import {
  DEFAULT_TASK_QUEUE,
  type HumeBatchResult,
  type HumeJobResult,
  pauseUpdate,
  progressQuery,
  resumeUpdate,
  type RunProgress,
  setMaxJobsInFlightUpdate,
  setOnCancelUpdate,
} from './workflows/definitions.js';
// Types only: client code starts workflows by name, without loading workflow code.
import type { humeBatch, humeJob } from './workflows/index.js';

export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError';
}

export interface StartOptions {
  /** @default DEFAULT_TASK_QUEUE */
  taskQueue?: string;
  /** @default `hume-run-<runId>` for runs, a random id for jobs */
  workflowId?: string;
}

/** The workflow id a run gets when none is given. */
export const runWorkflowId = (runId: string) => `hume-run-${runId}`;

/** Local paths absolute (the worker may run elsewhere), `s3://` locations as given. */
const absolute = (location: string) => normalizeLocation(location);

/** gRPC's FAILED_PRECONDITION, with which the server says a workflow is not ready. */
const FAILED_PRECONDITION = 9;
const REFUSED_TASK_ATTEMPTS = 5;

/**
 * The server aborts an update answered in a workflow task it then refused (an event arrived while
 * that task continued the run as new or ended it: UNHANDLED_COMMAND), and says "unexpected
 * workflow task failure". The update's effect went with the task, and ours set values (twice is
 * once), so it is sent again, a few times, a moment apart.
 */
async function updateAgainIfTaskRefused<T>(send: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (err) {
      if (attempt >= REFUSED_TASK_ATTEMPTS || !refusedTask(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

const refusedTask = (err: unknown): boolean =>
  err instanceof ServiceError &&
  isGrpcServiceError(err.cause) &&
  err.cause.code === FAILED_PRECONDITION &&
  /unexpected workflow task failure/i.test(err.cause.details);

export class RunHandle {
  constructor(readonly workflow: WorkflowHandle<typeof humeBatch>) {}

  progress(): Promise<RunProgress> {
    return this.workflow.query(progressQuery);
  }
  pause(): Promise<RunProgress> {
    return updateAgainIfTaskRefused(() => this.workflow.executeUpdate(pauseUpdate));
  }
  resume(): Promise<RunProgress> {
    return updateAgainIfTaskRefused(() => this.workflow.executeUpdate(resumeUpdate));
  }
  setMaxJobsInFlight(max: number): Promise<RunProgress> {
    return updateAgainIfTaskRefused(() => this.workflow.executeUpdate(setMaxJobsInFlightUpdate, { args: [{ maxJobsInFlight: max }] }));
  }
  /**
   * Stops submitting; in-flight jobs finish (or are abandoned, per `onCancel`) and the folder is
   * written. `abandon: true` ends any run, stuck or not — also one already draining: its in-flight
   * jobs are cancelled and the Hume jobs they leave behind are recorded in the folder.
   */
  async cancel(options: { abandon?: boolean } = {}): Promise<unknown> {
    if (options.abandon) await updateAgainIfTaskRefused(() => this.workflow.executeUpdate(setOnCancelUpdate, { args: [{ onCancel: 'abandon' }] }));
    return this.workflow.cancel();
  }
  result(): Promise<HumeBatchResult> {
    return this.workflow.result();
  }
}

/** Starts a `humeBatch` run; paths are made absolute here, since the worker may run elsewhere. */
export async function startRun(client: Client, input: HumeBatchInput, options: StartOptions = {}): Promise<RunHandle> {
  refuseContinuation(input, 'run');
  const parsed = HumeBatchInput.safeParse(input);
  if (!parsed.success) throw new InvalidInputError(`invalid run: ${describeIssues(parsed.error)}`);
  const runId = parsed.data.runId ?? `run-${Date.now().toString(36)}`;
  const args: HumeBatchInput = {
    ...input,
    runId,
    outDir: absolute(input.outDir),
    ...(input.manifest ? { manifest: { ...input.manifest, path: absolute(input.manifest.path) } } : {}),
    ...(input.allowedRoot ? { allowedRoot: absolute(input.allowedRoot) } : {}),
  };
  const handle = await client.workflow.start<typeof humeBatch>('humeBatch', {
    taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
    workflowId: options.workflowId ?? runWorkflowId(runId),
    args: [args],
    memo: { runId, manifest: input.manifest?.path ?? `${input.items?.length ?? 0} inline items` },
  });
  return new RunHandle(handle);
}

/** A handle on an existing run, by run id (or workflow id). */
export function getRun(client: Client, runIdOrWorkflowId: string): RunHandle {
  const workflowId = runIdOrWorkflowId.startsWith('hume-run-') ? runIdOrWorkflowId : runWorkflowId(runIdOrWorkflowId);
  return new RunHandle(client.workflow.getHandle<typeof humeBatch>(workflowId));
}

/**
 * Re-runs the failed and never-run items of a finished run into its folder, with the original
 * run's settings; the index, CSVs and summary are rewritten to include them.
 */
export async function redriveRun(client: Client, runId: string, options: StartOptions & { maxJobsInFlight?: number } = {}): Promise<RunHandle> {
  const input = { runId, outDir: '.', redrive: true, ...(options.maxJobsInFlight !== undefined ? { maxJobsInFlight: options.maxJobsInFlight } : {}) };
  const parsed = HumeBatchInput.safeParse(input);
  if (!parsed.success) throw new InvalidInputError(`invalid redrive: ${describeIssues(parsed.error)}`);
  const original = getRun(client, runId);
  const { status } = await original.workflow.describe();
  if (status.name === 'RUNNING') throw new InvalidInputError(`run ${runId} is still running: redrive it once it has finished`);
  const { runDir } = await original.progress();
  const handle = await client.workflow.start<typeof humeBatch>('humeBatch', {
    taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
    // One id for every redrive of a run: a second redrive while one runs is refused, never doubled.
    workflowId: options.workflowId ?? `${runWorkflowId(runId)}-redrive`,
    args: [{ ...input, outDir: dirname(runDir) }],
    memo: { runId, redriveOf: original.workflow.workflowId },
  });
  return new RunHandle(handle);
}

/** Runs one Hume job and returns its result (predictions are on disk, in `resultDir`). */
export async function runHumeJob(client: Client, input: HumeJobInput, options: StartOptions = {}): Promise<HumeJobResult> {
  refuseContinuation(input, 'job');
  const parsed = HumeJobInput.safeParse(input);
  if (!parsed.success) throw new InvalidInputError(`invalid job: ${describeIssues(parsed.error)}`);
  return client.workflow.execute<typeof humeJob>('humeJob', {
    taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
    workflowId: options.workflowId ?? `hume-job-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
    args: [{ ...input, ...(input.resultDir ? { resultDir: absolute(input.resultDir) } : {}) }],
  });
}

/** A workflow's continue-as-new state travels in its input; a caller's would be trusted as such. */
function refuseContinuation(input: object, what: string): void {
  if ('continuation' in input) throw new InvalidInputError(`invalid ${what}: continuation: set by the workflow itself when it continues as new, never by callers`);
}
