/**
 * What a submit or fetch run inside a workflow task (a local activity) may do: it holds the task
 * while it runs, so it waits for a free slot only briefly, and what it cannot do at once it
 * hands to the scheduled activity, which waits as long as it takes.
 */
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';

/**
 * How long it waits for a transfer slot and the request limiter, ms. A burst of callbacks queues
 * a hundred small fetches behind four transfer slots for well under this; a hand-over costs the
 * job an activity's three events and a workflow task more. Far below the task's 10 s timeout.
 */
export const IN_TASK_SLOT_WAIT_MS = 2_000;

/**
 * It stopped before writing or sending anything, leaving the work to the scheduled activity:
 * routine under load, so benign (the worker logs it at debug, not as a failed activity, and
 * counts no failure).
 */
export function handedOver(message: string, type: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type, nonRetryable: true, category: ApplicationFailureCategory.BENIGN });
}
