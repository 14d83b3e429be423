/**
 * Arguments of the run's updates, as objects so a field can be added later without breaking a
 * caller. Histories recorded before that still hold bare values; `fromLegacy` reads them.
 */
import { z } from 'zod';

/** Hume queues at most 500 jobs per account. */
export const MAX_JOBS_IN_FLIGHT = 500;

const inFlightRange = { error: `must be an integer from 1 to ${MAX_JOBS_IN_FLIGHT}` };
export const SetMaxJobsInFlight = z.object({
  maxJobsInFlight: z.number(inFlightRange).int(inFlightRange).min(1, inFlightRange).max(MAX_JOBS_IN_FLIGHT, inFlightRange),
});
export type SetMaxJobsInFlight = z.infer<typeof SetMaxJobsInFlight>;

export const SetOnCancel = z.object({
  /** What cancelling does to jobs in flight; `abandon` also ends a drain already under way. */
  onCancel: z.enum(['wait', 'abandon']),
});
export type SetOnCancel = z.infer<typeof SetOnCancel>;

/** Updates sent by versions before 0.2 carried the bare value (`5`, `'abandon'`) instead of the object. */
export const fromLegacy = <K extends string>(key: K, arg: unknown): unknown =>
  typeof arg === 'object' && arg !== null && !Array.isArray(arg) ? arg : { [key]: arg };
