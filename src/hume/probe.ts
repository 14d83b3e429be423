/**
 * A cheap call to Hume: one `listJobs(limit 1)`. A rejected key (401/403) is final at once; what
 * may pass (5xx, 429, a reset or refused connection, a timeout) is tried a few times, after Hume's
 * `Retry-After` when it gives one, before it is reported. Used by `run`'s preflight and by the
 * worker's start.
 */
import { HumeClient } from './client.js';
import { findNetworkError, HumeError } from './errors.js';

const PREFLIGHT_TIMEOUT_MS = 5_000;

export interface ProbeOptions {
  /** Calls in all, the first included. @default 4 */
  attempts?: number;
  /** First wait between calls, doubling after each. @default 500 */
  baseDelayMs?: number;
  /** Longest wait between calls, a `Retry-After` included. @default 10_000 */
  maxDelayMs?: number;
  /** Called before each wait. */
  onRetry?(line: string, delayMs: number): void;
}

export type ProbeResult =
  | { ok: true }
  /** Hume rejected the key (401/403) or the request: no retry will help. */
  | { ok: false; final: true; line: string; error: HumeError }
  /** Hume did not answer usefully after every attempt; it may later. */
  | { ok: false; final: false; line: string; error: HumeError };

/** One `listJobs(limit 1)`, retried while the failure may pass. */
export async function probeHume(config: { apiKey: string; baseUrl: string }, options: ProbeOptions = {}): Promise<ProbeResult> {
  const { attempts = 4, baseDelayMs = 500, maxDelayMs = 10_000, onRetry } = options;
  const { baseUrl } = config;
  const hume = new HumeClient({ apiKey: config.apiKey, baseUrl, timeoutMs: PREFLIGHT_TIMEOUT_MS });
  for (let attempt = 1; ; attempt++) {
    try {
      await hume.listJobs({ limit: 1 });
      return { ok: true };
    } catch (err) {
      if (!(err instanceof HumeError)) throw err;
      const line = describeProbeFailure(err, baseUrl);
      if (!err.retryable) return { ok: false, final: true, line, error: err };
      if (attempt >= attempts) return { ok: false, final: false, line, error: err };
      const delayMs = Math.min(maxDelayMs, err.retryAfterMs ?? baseDelayMs * 2 ** (attempt - 1));
      onRetry?.(line, delayMs);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

function describeProbeFailure(err: HumeError, baseUrl: string): string {
  if (err.status === 401 || err.status === 403) return `Hume rejected the API key (${err.status}) at ${baseUrl}: check HUME_API_KEY`;
  if (err.code === 'HUME_NETWORK' || err.code === 'HUME_TIMEOUT') return `cannot reach Hume at ${baseUrl} (${findNetworkError(err)?.code ?? err.message})`;
  return err.message;
}
