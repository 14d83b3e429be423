/**
 * Turns the Hume client's classified errors into Temporal failures: non-retryable ones fail the
 * activity at once, retryable ones are retried by Temporal, after `Retry-After` when Hume gave one.
 */
import { ApplicationFailure } from '@temporalio/common';
import { HumeError } from '../hume/errors.js';

export function toActivityFailure(err: unknown): unknown {
  if (!(err instanceof HumeError)) return err;
  return ApplicationFailure.create({
    message: err.message,
    type: err.code,
    nonRetryable: !err.retryable,
    // `Retry-After: 0` means "now": a zero delay would end the retries instead.
    nextRetryDelay: err.retryable && err.retryAfterMs ? err.retryAfterMs : undefined,
  });
}

/** Runs a Hume call, rethrowing its failure the way Temporal should treat it. */
export async function humeCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toActivityFailure(err);
  }
}
