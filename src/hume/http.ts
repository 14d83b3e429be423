/**
 * One HTTP exchange with Hume: send, check the status, let the caller consume the body, and turn
 * every failure into a classified HumeError.
 *
 * Two kinds of clock. A small JSON call has one total deadline (`timeoutMs`), body included, so a
 * stalled answer times out like a stalled connect. A transfer (an upload with files or big texts,
 * a download) has none: 100 MB on a few MB/s takes minutes, and a cut-and-restart loop would never
 * finish. It fails instead when no byte moves for `idleTimeoutMs`, or when it runs past a
 * deadline scaled by its size where the size is known (`timeoutMs + bytes / minBytesPerSecond`).
 *
 * No retries here, on purpose: Temporal activities retry with their own policy, and retrying in
 * two layers would multiply attempts and hide failures from history.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { request, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { CallTimer } from './call-timer.js';
import {
  HumeError,
  HumeHttpError,
  HumeInvalidResponseError,
  HumeNetworkError,
  HumeTimeoutError,
  findNetworkError,
} from './errors.js';
import { parseJsonStream, JsonStreamError, type StreamJsonOptions } from './json-stream.js';
import { DEFAULT_429_PAUSE_MS, RequestLimiterBusy, type RequestRateLimiter } from './rate-limit.js';
import type { RequestBody } from './request-body.js';
import { parseRetryAfterMs } from './retryAfter.js';
import { ErrorBody } from './schemas.js';
import type { TransferSlots } from './transfer-slots.js';

export interface CallOptions {
  /** Aborts the call (e.g. activity cancellation); the signal's reason is thrown as is. */
  signal?: AbortSignal;
  /**
   * Overrides the client's `timeoutMs` for this call, in ms: the whole call for a small JSON call,
   * the wait for the answer's headers plus the base of the size-scaled deadline for a transfer.
   */
  timeoutMs?: number;
  /**
   * Uploads and downloads only: called as bytes move with the count so far (for a resumed
   * download, of the whole file, kept prefix included). For activity heartbeats.
   */
  onProgress?: (bytesSoFar: number) => void;
  /**
   * Wait at most this long, ms, for a transfer slot and the request limiter together; past it,
   * throw `RequestLimiterBusy` having sent nothing (a call inside a workflow task, which must not
   * hold its task for long). 0 takes only a slot free now. @default Infinity (no bound)
   */
  maxWaitMs?: number;
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  path: string;
  query?: URLSearchParams;
  headers?: Record<string, string>;
  body?: RequestBody;
  /**
   * A transfer: idle timeout and size-scaled deadline instead of one total deadline. `slot`: it
   * also waits for one of the process's transfer slots (uploads with files, downloads).
   */
  transfer?: { slot: boolean };
}

export type ResponseBody = Dispatcher.ResponseData['body'];
export interface ResponseHead {
  statusCode: number;
  headers: IncomingHttpHeaders;
}

export interface HttpSettings {
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  /** A transfer fails when no byte has moved for this long, ms. */
  idleTimeoutMs: number;
  /** The slowest rate a transfer of known size may average before its deadline, bytes/s. */
  minBytesPerSecond: number;
  dispatcher?: Dispatcher;
  /** Every request takes a slot first; a 429 pauses it. None: requests go at once. */
  limiter?: RequestRateLimiter;
  /** Transfers with `slot` take one first. None: unbounded. */
  transfers?: TransferSlots;
  /** Told of every request once it ended (metrics). */
  observer?: RequestObserver;
}

/** One request to Hume, as metrics count it. */
export interface RequestObservation {
  /** The client call, without its arguments: `getJob`, `startJob`, `downloadPredictions`, … */
  call: string;
  /** The HTTP status, or how the request ended without one. */
  status: number | 'network' | 'timeout' | 'cancelled';
  durationMs: number;
  bytesSent: number;
  /** The answer's announced length (a download's bytes, whole or its range); 0 when it announced none. */
  bytesReceived: number;
}
export type RequestObserver = (observation: RequestObservation) => void;

/** Bytes of an error body we read: enough for any JSON message, bounded for HTML error pages. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** Characters of a non-JSON error body quoted in a message. */
const MAX_ERROR_DETAIL_CHARS = 200;
/** undici's own idle timers, which we set for transfers. */
const IDLE_ERROR_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

export class HumeHttp {
  readonly #settings: HttpSettings;

  constructor(settings: HttpSettings) {
    this.#settings = settings;
  }

  /**
   * Sends `req` and, on 2xx, returns what `consume` makes of the body. `call` names the client
   * call in error messages, e.g. `getJob(<id>)`.
   */
  async exchange<T>(
    call: string,
    options: CallOptions | undefined,
    req: HttpRequest,
    consume: (body: ResponseBody, head: ResponseHead) => Promise<T>,
  ): Promise<T> {
    const { limiter, transfers } = this.#settings;
    // Before any clock starts: waiting for a slot is not the call being slow.
    const waitUntil = waitDeadline(options?.maxWaitMs);
    const wait = <U>(slot: 'request' | 'transfer', acquire: (signal?: AbortSignal) => Promise<U>) => waitAtMost(call, slot, waitUntil, options?.signal, acquire);
    const release = req.transfer?.slot && transfers ? await wait('transfer', (signal) => transfers.acquire(signal)) : undefined;
    try {
      if (limiter) await wait('request', (signal) => limiter.acquire(signal));
      return await this.#send(call, options, req, consume);
    } finally {
      release?.();
    }
  }

  async #send<T>(
    call: string,
    options: CallOptions | undefined,
    req: HttpRequest,
    consume: (body: ResponseBody, head: ResponseHead) => Promise<T>,
  ): Promise<T> {
    const { idleTimeoutMs, minBytesPerSecond } = this.#settings;
    const timeoutMs = options?.timeoutMs ?? this.#settings.timeoutMs;
    const transfer = req.transfer !== undefined;
    const idleReason = `timed out: no byte moved for ${idleTimeoutMs / 1000} s (idle timeout)`;
    const timer = new CallTimer();
    /** A transfer of `bytes` may take `timeoutMs` plus its time at the slowest acceptable rate. */
    const scaledDeadline = (bytes: number) => {
      const ms = timeoutMs + Math.ceil((bytes / minBytesPerSecond) * 1000);
      timer.deadline(ms, `timed out: ${bytes} bytes not moved within the deadline of ${Math.round(ms / 1000)} s`);
    };
    if (transfer && req.body) scaledDeadline(req.body.length);
    else timer.deadline(timeoutMs, `timed out after ${timeoutMs} ms`);
    const signal = options?.signal ? AbortSignal.any([timer.signal, options.signal]) : timer.signal;
    let res: Dispatcher.ResponseData | undefined;
    const started = performance.now();
    let sent = 0;
    let ended: RequestObservation['status'] = 'network';
    try {
      res = await request(this.#url(req), {
        method: req.method,
        headers: {
          'x-hume-api-key': this.#settings.apiKey,
          accept: 'application/json',
          ...(req.body && { 'content-type': req.body.contentType, 'content-length': String(req.body.length) }),
          ...req.headers,
        },
        // undici sends any AsyncIterable (documented), though its types list only Readable.
        body: req.body && (this.#measured(req.body, timer, transfer ? idleReason : undefined, (bytes) => ((sent = bytes), options?.onProgress?.(bytes))) as unknown as Readable),
        signal,
        // undici's idle timers: waiting for the answer once the upload is written, and between
        // chunks of the answer's body. A small call's total deadline is shorter than its defaults.
        ...(transfer && { headersTimeout: idleTimeoutMs, bodyTimeout: idleTimeoutMs }),
        ...(this.#settings.dispatcher && { dispatcher: this.#settings.dispatcher }),
      });
      ended = res.statusCode;
      if (res.statusCode < 200 || res.statusCode > 299) {
        const retryAfterMs = parseRetryAfterMs(res.headers);
        // Throttled: hold back every call to this server, not only this one (its retry waits too).
        if (res.statusCode === 429) this.#settings.limiter?.pause(retryAfterMs ?? DEFAULT_429_PAUSE_MS);
        throw new HumeHttpError({
          call,
          status: res.statusCode,
          detail: this.#redact(await readErrorDetail(res.body)),
          retryAfterMs,
        });
      }
      if (transfer) {
        const length = contentLength(res.headers);
        if (length === undefined) timer.deadline(undefined, '');
        else scaledDeadline(length);
      }
      return await consume(res.body, res);
    } catch (e) {
      // A body nobody read to its end would hold the connection until garbage collection.
      if (res && !res.body.destroyed) res.body.destroy();
      if (e instanceof HumeError) throw e;
      // Cancellation is the caller's decision, not a Hume failure: hand its reason back untouched.
      if (options?.signal?.aborted) {
        ended = 'cancelled';
        throw options.signal.reason;
      }
      if (timer.expired) {
        ended = 'timeout';
        throw new HumeTimeoutError({ call, reason: timer.expired, error: e });
      }
      const network = findNetworkError(e);
      if (transfer && network && IDLE_ERROR_CODES.has(network.code)) {
        ended = 'timeout';
        throw new HumeTimeoutError({ call, reason: idleReason, error: e });
      }
      if (network) {
        const what = network.message.includes(network.code) ? network.message : `${network.code}: ${network.message}`;
        throw new HumeNetworkError({ call, reason: `network error: ${this.#redact(what)}`, error: e });
      }
      throw e;
    } finally {
      timer.clear();
      const bytesReceived = (res && contentLength(res.headers)) ?? 0;
      try {
        this.#settings.observer?.({ call: call.replace(/\(.*$/, ''), status: ended, durationMs: performance.now() - started, bytesSent: sent, bytesReceived });
      } catch {
        // Metrics never change a request's outcome.
      }
    }
  }

  /**
   * The body's bytes as undici takes them: it asks for the next chunk once the last is written to
   * the socket, so the count is what has left, and a link that stops taking bytes stops the count.
   */
  async *#measured(body: RequestBody, timer: CallTimer, idleReason: string | undefined, onProgress?: (bytes: number) => void) {
    let sent = 0;
    const touch = () => idleReason && timer.touch(this.#settings.idleTimeoutMs, idleReason);
    touch();
    try {
      for await (const chunk of body.open()) {
        yield chunk;
        sent += chunk.length;
        touch();
        onProgress?.(sent);
      }
    } finally {
      // From here undici's headersTimeout watches the wait for the answer.
      timer.stopIdle();
    }
  }

  #url(req: HttpRequest): string {
    const query = req.query?.size ? `?${req.query}` : '';
    return `${this.#settings.baseUrl}${req.path}${query}`;
  }

  /** A server may echo what we sent; the key must never reach a message, log or history. */
  #redact(text: string): string {
    return text.replaceAll(this.#settings.apiKey, '[redacted]');
  }
}

/** `Content-Length` as a number, if the server sent a valid one. */
export function contentLength(headers: IncomingHttpHeaders): number | undefined {
  const value = headers['content-length'];
  return typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : undefined;
}

/** Parses a JSON body with `schema`; anything else is a non-retryable invalid response. */
export async function readJson<S extends z.ZodType>(call: string, body: ResponseBody, schema: S): Promise<z.output<S>> {
  const text = await body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Not quoted: a 2xx body may echo the caller's private texts.
    throw new HumeInvalidResponseError({ call, reason: `invalid response: body is not JSON (${text.length} chars)` });
  }
  return validate(call, json, schema);
}

/**
 * `readJson` for bodies that may be huge only because of values we never read (see
 * `json-stream.ts`): those are dropped or replaced as they stream past, never held.
 */
export async function readJsonSkipping<S extends z.ZodType>(
  call: string,
  body: ResponseBody,
  schema: S,
  skipping: StreamJsonOptions,
): Promise<z.output<S>> {
  let json: unknown;
  try {
    json = await parseJsonStream(body, skipping);
  } catch (e) {
    if (e instanceof JsonStreamError) throw new HumeInvalidResponseError({ call, reason: `invalid response: ${e.message}` });
    throw e;
  }
  return validate(call, json, schema);
}

function validate<S extends z.ZodType>(call: string, json: unknown, schema: S): z.output<S> {
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : '(root)';
    throw new HumeInvalidResponseError({ call, reason: `invalid response: ${where}: ${issue?.message ?? 'does not match'}` });
  }
  return parsed.data;
}

/** The server's explanation of an error: `{message}`, Apigee `{fault:{faultstring}}`, or the text. */
async function readErrorDetail(body: ResponseBody): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= MAX_ERROR_BODY_BYTES) {
      body.destroy();
      break;
    }
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    const parsed = ErrorBody.safeParse(JSON.parse(text));
    if (parsed.success) {
      const data: { message?: unknown; fault?: { faultstring: string } } = parsed.data;
      return typeof data.message === 'string' ? data.message : (data.fault?.faultstring ?? '');
    }
  } catch {
    // Not JSON (an HTML error page from the edge, say): quote it.
  }
  return excerpt(text);
}

const excerpt = (text: string) => text.replace(/\s+/g, ' ').trim().slice(0, MAX_ERROR_DETAIL_CHARS);

/**
 * Waits for a slot until `waitUntil` (no bound when undefined); past it, gives the place up and
 * throws `RequestLimiterBusy`. The caller's signal still ends the wait with its own reason.
 */
async function waitAtMost<T>(
  call: string,
  slot: 'request' | 'transfer',
  waitUntil: number | undefined,
  signal: AbortSignal | undefined,
  acquire: (signal?: AbortSignal) => Promise<T>,
): Promise<T> {
  if (waitUntil === undefined) return acquire(signal);
  const bound = new AbortController();
  const timer = setTimeout(() => bound.abort(), Math.max(0, waitUntil - performance.now()));
  try {
    return await acquire(signal ? AbortSignal.any([signal, bound.signal]) : bound.signal);
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    if (bound.signal.aborted) throw new RequestLimiterBusy(call, slot);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** The longest wait a timer can be set for, ms (Node fires longer ones after 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** When a wait bounded by `maxWaitMs` ends: never for undefined or Infinity. */
function waitDeadline(maxWaitMs: number | undefined): number | undefined {
  if (maxWaitMs === undefined || maxWaitMs === Infinity) return undefined;
  if (!(maxWaitMs >= 0 && maxWaitMs <= MAX_TIMER_MS)) throw new RangeError(`maxWaitMs must be 0 to ${MAX_TIMER_MS} ms, or Infinity, got ${maxWaitMs}`);
  return performance.now() + maxWaitMs;
}
