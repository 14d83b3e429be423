/**
 * Callback delivery: POST `{job_id, status, predictions}` to the job's `callback_url`, retried
 * with exponential backoff on a non-2xx answer or a network error; dropped, duplicated or
 * delayed as the faults say; optionally signed the way Hume signs EVI webhooks. A COMPLETED
 * job's predictions are streamed from its file into the body, never held as a string.
 */
import { createHmac, type Hmac } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { request, type Dispatcher } from 'undici';
import type { EmulatorLogger, Faults, ResolvedOptions } from './options.js';
import type { Random } from './random.js';
import type { EmulatorStats } from './stats.js';
import type { Timers } from './timers.js';

export interface CallbackDeps {
  config: ResolvedOptions['callback'];
  dispatcher: Dispatcher;
  faults: () => Faults;
  random: Random;
  stats: EmulatorStats;
  timers: Timers;
  logger?: EmulatorLogger | undefined;
}

/**
 * A callback body in three parts: JSON `head`, the bytes of `file` (a JSON value) and `tail`.
 * `{job_id, status:'COMPLETED', predictions: <file>}` without ever reading the file whole.
 */
export interface CallbackBody {
  head: string;
  file?: { path: string; bytes: number };
  tail: string;
}

/** The body of a COMPLETED job's callback, predictions taken from their file. */
export const completedBody = (jobId: string, predictions: { path: string; bytes: number }): CallbackBody => ({
  head: `{"job_id":${JSON.stringify(jobId)},"status":"COMPLETED","predictions":`,
  file: predictions,
  tail: '}',
});

/** A body that is all JSON (a FAILED job's). */
export const jsonBody = (payload: object): CallbackBody => ({ head: JSON.stringify(payload), tail: '' });

/** EVI scheme: hex HMAC-SHA256 of `body + "." + timestamp`, timestamp in Unix seconds. */
export function signCallback(key: string, body: string, timestamp: string): string {
  return createHmac('sha256', key).update(`${body}.${timestamp}`).digest('hex');
}

/** `signCallback` over a streamed body. */
async function signBody(key: string, body: CallbackBody, timestamp: string): Promise<string> {
  const hmac: Hmac = createHmac('sha256', key);
  for await (const chunk of bodyStream(body)) hmac.update(chunk as Buffer | string);
  return hmac.update(`.${timestamp}`).digest('hex');
}

function bodyStream(body: CallbackBody): Readable {
  return Readable.from((async function* () {
    yield Buffer.from(body.head);
    if (body.file) yield* createReadStream(body.file.path);
    yield Buffer.from(body.tail);
  })(), { objectMode: false });
}

const bodyBytes = (body: CallbackBody): number =>
  Buffer.byteLength(body.head) + (body.file?.bytes ?? 0) + Buffer.byteLength(body.tail);

export function sendCallback(deps: CallbackDeps, url: string, body: CallbackBody): void {
  const faults = deps.faults();
  if (deps.random.chance(faults.callbackDropRate)) {
    deps.stats.callbacksDropped++;
    deps.logger?.info(`callback to ${url} dropped (fault)`);
    return;
  }
  const copies = deps.random.chance(faults.callbackDuplicateRate) ? 2 : 1;
  for (let i = 0; i < copies; i++) {
    deps.timers.track(deliver(deps, url, body, faults.callbackDelayMs), (err) =>
      deps.logger?.warn(`callback to ${url}: ${String(err)}`));
  }
}

async function deliver(deps: CallbackDeps, url: string, body: CallbackBody, delayMs: number): Promise<void> {
  const { config, timers, stats } = deps;
  if (delayMs > 0) await timers.sleep(delayMs);
  let lastError = '';
  const length = bodyBytes(body);
  for (let attempt = 0; attempt <= config.retries; attempt++) {
    if (attempt > 0) await timers.sleep(config.backoffMs * 2 ** (attempt - 1));
    stats.callbackAttempts++;
    const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(length) };
    try {
      if (config.hmacKey) {
        const timestamp = String(Math.floor(Date.now() / 1000));
        headers['x-hume-ai-webhook-timestamp'] = timestamp;
        headers['x-hume-ai-webhook-signature'] = await signBody(config.hmacKey, body, timestamp);
      }
      const res = await request(url, {
        method: 'POST',
        headers,
        body: bodyStream(body),
        dispatcher: deps.dispatcher,
        signal: AbortSignal.any([timers.signal, AbortSignal.timeout(attemptTimeoutMs(config.timeoutMs, length))]),
      });
      await res.body.dump();
      if (res.statusCode >= 200 && res.statusCode < 300) {
        stats.callbacksSent++;
        return;
      }
      lastError = `HTTP ${res.statusCode}`;
    } catch (err) {
      if (timers.signal.aborted) return;
      lastError = err instanceof Error ? err.message : String(err);
    }
  }
  stats.callbacksFailed++;
  deps.logger?.warn(`callback to ${url} failed after ${config.retries + 1} attempts: ${lastError}`);
}

/** A callback carries every prediction: an attempt gets a second more per 10 MB of body. */
const attemptTimeoutMs = (baseMs: number, bytes: number): number => baseMs + Math.ceil(bytes / 10_000_000) * 1_000;
