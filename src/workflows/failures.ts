/**
 * Our failures, typed: which `FAILURE_TYPES` a workflow ends with, and what its details hold.
 * Sandbox-safe, so a parent workflow reads a child's failure the way client code reads a run's.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { InvalidLineRef } from '../schemas/batch.js';
import { FAILURE_TYPES, type FailureType, type HumeBatchResult } from './definitions.js';

/** What `ApplicationFailure.details[0]` holds, per failure type; types not listed carry none. */
export interface FailureDetails {
  HUME_JOB_FAILED: { jobIds: string[] };
  HUME_ACCOUNT_BLOCKED: { jobIds: string[] };
  /** The run's result when too many items failed; none when its folder could not be written. */
  RUN_FAILED: HumeBatchResult | undefined;
  /** Invalid lines without their values; none when the manifest could not be read at all. */
  INVALID_MANIFEST: { invalidCount: number; invalid: InvalidLineRef[] } | undefined;
  /** `owner` is the folder's owner record, `found` the results already there. */
  RUN_ID_TAKEN: { runDir: string; owner?: Record<string, unknown>; found?: string[] };
  /** A local path and errno, or an S3 location. */
  RESULTS_UNWRITABLE: { path: string; code: string; syscall?: string } | { bucket: string; uri: string; code: string };
}

type Detailed = keyof FailureDetails;

/** One of our failures: its type, message and, for the types that have them, typed details. */
export type HumeFailure =
  | { [T in Detailed]: { type: T; message: string; details: FailureDetails[T] } }[Detailed]
  | { type: Exclude<FailureType, Detailed>; message: string; details?: undefined };

const OURS = new Set<string>(Object.values(FAILURE_TYPES));

/**
 * The first of our failures in an error's cause chain (a `WorkflowFailedError` of a run, a
 * `ChildWorkflowFailure`, an `ActivityFailure`), or undefined when the error is not one of ours.
 */
export function humeFailureOf(err: unknown): HumeFailure | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if (e instanceof ApplicationFailure && e.type && OURS.has(e.type)) {
      return { type: e.type, message: e.message, details: e.details?.[0] } as HumeFailure;
    }
  }
  return undefined;
}
