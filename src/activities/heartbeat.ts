/**
 * Heartbeats while a long call runs, so a dead worker is noticed within the heartbeat timeout,
 * and hands the call the activity's cancellation signal.
 */
import { Context } from '@temporalio/activity';

const HEARTBEAT_EVERY_MS = 2_000;

export async function whileHeartbeating<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const context = Context.current();
  context.heartbeat();
  const timer = setInterval(() => context.heartbeat(), HEARTBEAT_EVERY_MS);
  try {
    return await fn(context.cancellationSignal);
  } finally {
    clearInterval(timer);
  }
}
