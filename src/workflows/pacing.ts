/**
 * How often our workflows knock on Hume's door: jittered polls and resubmissions, a backoff that
 * hands a Hume outage over to durable timers, and which failures mean "the account, not the job".
 * Pure functions: safe in the workflow sandbox and replay-deterministic.
 */

/** Silence between state checks while Hume cannot be reached: timers, not events per minute. */
export const OUTAGE_FIRST_WAIT_MS = 30_000;
export const OUTAGE_MAX_WAIT_MS = 10 * 60_000;
export const MAX_RESUBMIT_DELAY_MS = 10 * 60_000;

/**
 * A factor in [0.8, 1.2) fixed by `seed` and `n`: the same on replay, different for each job, so a
 * window of jobs started in one task does not poll (or resubmit) in lockstep.
 */
export function jitter(seed: string, n: number): number {
  // FNV-1a over the seed and the counter.
  let hash = 0x811c9dc5;
  for (const char of `${seed}#${n}`) {
    hash ^= char.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return 0.8 + (hash / 0x1_0000_0000) * 0.4;
}

/** Wait before attempt `attempt` (≥ 2) of a job: the base, doubled per earlier resubmission, capped. */
export function resubmitDelayMs(baseMs: number, attempt: number, seed: string): number {
  const exponential = Math.min(baseMs * 2 ** Math.max(0, attempt - 2), MAX_RESUBMIT_DELAY_MS);
  return Math.round(exponential * jitter(seed, attempt));
}

/** The next wait after a failed state check: at least the outage floor, doubling, capped. */
export function outageWaitMs(previousMs: number): number {
  return Math.min(Math.max(previousMs * 2, OUTAGE_FIRST_WAIT_MS), OUTAGE_MAX_WAIT_MS);
}

/** Failure types of our activities that no retry and no other batch can get past. */
const ACCOUNT_FAILURE_TYPES = new Set(['HUME_UNAUTHORIZED', 'HUME_FORBIDDEN']);

/**
 * Hume reports an exhausted quota as a FAILED job ("user '…' has exceeded their usage limit"),
 * not as an HTTP error; these phrases in a FAILED job's message mean every other job fails too.
 * Phrases, not words: a message naming `credits-roll.mp4` is about a file, not the account.
 */
const ACCOUNT_FAILURE_MESSAGE =
  /usage limit|exceeded (their|your|the) (usage|quota|limit)|quota (exceeded|exhausted|reached)|insufficient (credits?|funds|balance)|out of credits?|no (remaining )?credits?( left)?\b|payment required|billing (issue|problem|required)|account (is )?(suspended|disabled)/i;

export function isAccountFailureType(type: string | undefined): boolean {
  return type !== undefined && ACCOUNT_FAILURE_TYPES.has(type);
}

export function isAccountFailureMessage(message: string | undefined): boolean {
  return message !== undefined && ACCOUNT_FAILURE_MESSAGE.test(message);
}
