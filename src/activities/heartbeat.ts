/**
 * Heartbeats while a long call runs, so a dead worker is noticed within the heartbeat timeout,
 * and hands the call the activity's cancellation signal and a way to report progress.
 */
import { Context } from '@temporalio/activity';

const HEARTBEAT_EVERY_MS = 2_000;

export interface Progress {
  /**
   * Details carried by every later heartbeat (and sent at once). They are recorded in history
   * when the attempt fails, so counts and offsets only: never an item's URL, text or file name.
   */
  report(details: Record<string, number>): void;
  /** What the previous attempt last reported, for resuming where it stopped. */
  readonly previous: Record<string, number> | undefined;
}

export async function whileHeartbeating<T>(fn: (signal: AbortSignal, progress: Progress) => Promise<T>): Promise<T> {
  const context = Context.current();
  let details: Record<string, number> | undefined;
  const beat = () => (details === undefined ? context.heartbeat() : context.heartbeat(details));
  beat();
  const timer = setInterval(beat, HEARTBEAT_EVERY_MS);
  const previous = context.info.heartbeatDetails as unknown;
  const progress: Progress = {
    report(next) {
      const first = details === undefined;
      details = next;
      // Temporal throttles heartbeats itself; the first report goes at once so a stuck transfer shows.
      if (first) beat();
    },
    previous: isCounts(previous) ? previous : undefined,
  };
  try {
    return await fn(context.cancellationSignal, progress);
  } finally {
    clearInterval(timer);
  }
}

function isCounts(value: unknown): value is Record<string, number> {
  return typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'number');
}
