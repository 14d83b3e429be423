/**
 * One HTTP exchange with Hume under one deadline: send, check the status, let the caller consume
 * the body, and turn every failure into a classified HumeError. The deadline covers the body too,
 * so a stalled download times out like a stalled connect.
 *
 * No retries here, on purpose: Temporal activities retry with their own policy, and retrying in
 * two layers would multiply attempts and hide failures from history.
 */
import { request, type Dispatcher, type FormData } from 'undici';
import type { z } from 'zod';
import {
  HumeError,
  HumeHttpError,
  HumeInvalidResponseError,
  HumeNetworkError,
  HumeTimeoutError,
  findNetworkError,
} from './errors.js';
import { DEFAULT_429_PAUSE_MS, type RequestRateLimiter } from './rate-limit.js';
import { parseRetryAfterMs } from './retryAfter.js';
import { ErrorBody } from './schemas.js';

export interface CallOptions {
  /** Aborts the call (e.g. activity cancellation); the signal's reason is thrown as is. */
  signal?: AbortSignal;
  /** Overrides the client's per-call timeout for this call, in ms. */
  timeoutMs?: number;
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  path: string;
  query?: URLSearchParams;
  headers?: Record<string, string>;
  body?: string | FormData;
}

export type ResponseBody = Dispatcher.ResponseData['body'];

export interface HttpSettings {
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  dispatcher?: Dispatcher;
  /** Every request takes a slot first; a 429 pauses it. None: requests go at once. */
  limiter?: RequestRateLimiter;
}

/** Bytes of an error body we read: enough for any JSON message, bounded for HTML error pages. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** Characters of a non-JSON error body quoted in a message. */
const MAX_ERROR_DETAIL_CHARS = 200;

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
    consume: (body: ResponseBody) => Promise<T>,
  ): Promise<T> {
    const { limiter } = this.#settings;
    // Before the deadline starts: waiting for a slot is not the call being slow. The caller's
    // signal still ends the wait, with its reason.
    await limiter?.acquire(options?.signal);
    const timeoutMs = options?.timeoutMs ?? this.#settings.timeoutMs;
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = options?.signal ? AbortSignal.any([deadline, options.signal]) : deadline;
    try {
      const res = await request(this.#url(req), {
        method: req.method,
        headers: { 'x-hume-api-key': this.#settings.apiKey, accept: 'application/json', ...req.headers },
        body: req.body,
        signal,
        ...(this.#settings.dispatcher && { dispatcher: this.#settings.dispatcher }),
      });
      if (res.statusCode < 200 || res.statusCode > 299) {
        const retryAfterMs = parseRetryAfterMs(res.headers);
        // Throttled: hold back every call to this server, not only this one (its retry waits too).
        if (res.statusCode === 429) limiter?.pause(retryAfterMs ?? DEFAULT_429_PAUSE_MS);
        throw new HumeHttpError({
          call,
          status: res.statusCode,
          detail: this.#redact(await readErrorDetail(res.body)),
          retryAfterMs,
        });
      }
      return await consume(res.body);
    } catch (e) {
      if (e instanceof HumeError) throw e;
      // Cancellation is the caller's decision, not a Hume failure: hand its reason back untouched.
      if (options?.signal?.aborted) throw options.signal.reason;
      if (deadline.aborted) throw new HumeTimeoutError({ call, reason: `timed out after ${timeoutMs} ms`, error: e });
      const network = findNetworkError(e);
      if (network) {
        const what = network.message.includes(network.code) ? network.message : `${network.code}: ${network.message}`;
        throw new HumeNetworkError({ call, reason: `network error: ${this.#redact(what)}`, error: e });
      }
      throw e;
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
