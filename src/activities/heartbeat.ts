/**
 * Heartbeats while a long call runs, so a dead worker is noticed within the heartbeat timeout,
 * and hands the call the activity's cancellation signal and a way to report progress.
 */
import { Context } from '@temporalio/activity';

const HEARTBEAT_EVERY_MS = 2_000;

export interface Progress {
  /**
   * Details carried by every later heartbeat (the first report is sent at once). They are recorded in history
   * when the attempt fails, so counts and offsets only: never an item's URL, text or file name.
   */
  report(details: Record<string, number>): void;
  /** What the previous attempt last reported, for resuming where it stopped. */
  readonly previous: Record<string, number> | undefined;
}

export async function whileHeartbeating<T>(fn: (signal: AbortSignal, progress: Progress) => Promise<T>): Promise<T> {
  const context = Context.current();
  const recorded = context.info.heartbeatDetails as unknown;
  const previous = isCounts(recorded) ? recorded : undefined;
  // A heartbeat replaces the recorded details: until this attempt reports, it carries the previous
  // attempt's, so an attempt that fails early does not erase where the last one got to.
  let details = previous;
  let reported = false;
  // A local activity has no heartbeat: its workflow task is what notices a dead worker.
  const beat = () => (context.info.isLocal ? undefined : details === undefined ? context.heartbeat() : context.heartbeat(details));
  beat();
  const timer = setInterval(beat, HEARTBEAT_EVERY_MS);
  const progress: Progress = {
    report(next) {
      details = next;
      // Temporal throttles heartbeats itself; the first report goes at once so a stuck transfer shows.
      if (!reported) beat();
      reported = true;
    },
    previous,
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
