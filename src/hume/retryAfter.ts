/**
 * How long Hume asks us to wait before retrying, read the way the official SDK reads it:
 * `Retry-After` as delta-seconds or an HTTP date, else `X-RateLimit-Reset` as epoch seconds.
 */
import type { IncomingHttpHeaders } from 'node:http';

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name];
  return (Array.isArray(value) ? value[0] : value)?.trim() || undefined;
};

/** Milliseconds to wait (never negative), or undefined when no usable header is present. */
export function parseRetryAfterMs(headers: IncomingHttpHeaders, now = Date.now()): number | undefined {
  const retryAfter = header(headers, 'retry-after');
  if (retryAfter !== undefined) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) return Math.round(Number(retryAfter) * 1000);
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  const reset = header(headers, 'x-ratelimit-reset');
  if (reset !== undefined && /^\d+(\.\d+)?$/.test(reset)) return Math.max(0, Math.round(Number(reset) * 1000 - now));
  return undefined;
}
