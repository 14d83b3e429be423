/** One readable line for a failure: the cause that says what happened, not Temporal's wrapper. */
import { ActivityFailure, ChildWorkflowFailure } from '@temporalio/workflow';

export function failureMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // "Activity task failed" / "Child Workflow execution failed" say nothing: their cause does.
  if ((err instanceof ActivityFailure || err instanceof ChildWorkflowFailure) && err.cause instanceof Error) return failureMessage(err.cause);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}
