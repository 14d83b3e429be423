/**
 * Every error the Hume client throws, and the one place where failures are classified as
 * retryable or not (DESIGN invariant 5). Shaped like undici's errors module: one base class,
 * subclasses with a `name`, a default message and a stable `code`.
 *
 * Messages read `Hume <call>: <cause>` and never contain the API key or request bodies.
 */
import { STATUS_CODES } from 'node:http';

export type HumeErrorCode =
  | 'HUME_BAD_REQUEST'
  | 'HUME_UNAUTHORIZED'
  | 'HUME_FORBIDDEN'
  | 'HUME_NOT_FOUND'
  | 'HUME_UNPROCESSABLE'
  | 'HUME_RATE_LIMITED'
  | 'HUME_SERVER_ERROR'
  | 'HUME_TIMEOUT'
  | 'HUME_NETWORK'
  | 'HUME_INVALID_RESPONSE'
  | 'HUME_HTTP_ERROR'
  | 'HUME_INVALID_REQUEST';

export interface HumeErrorOptions {
  /** The client call that failed, e.g. `getJob(3f2…)`. */
  call: string;
  /** What went wrong, without the `Hume <call>: ` prefix; each subclass has a default. */
  reason?: string;
  status?: number;
  retryAfterMs?: number;
  /** The underlying error, kept as `Error.cause` for debugging. */
  error?: unknown;
}

export class HumeError extends Error {
  readonly code: HumeErrorCode;
  readonly retryable: boolean;
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly call: string;

  constructor(code: HumeErrorCode, retryable: boolean, defaultReason: string, options: HumeErrorOptions) {
    super(`Hume ${options.call}: ${options.reason ?? defaultReason}`, { cause: options.error });
    this.name = 'HumeError';
    this.code = code;
    this.retryable = retryable;
    this.call = options.call;
    if (options.status !== undefined) this.status = options.status;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}

/** Hume answered with a non-2xx status; `detail` is the server's message, if it gave one. */
export class HumeHttpError extends HumeError {
  constructor(options: HumeErrorOptions & { status: number; detail?: string }) {
    const { status, detail } = options;
    const { code, retryable } = classifyStatus(status);
    const statusLine = `${status} ${STATUS_CODES[status] ?? 'HTTP error'}`;
    super(code, retryable, detail ? `${statusLine}: ${detail}` : statusLine, {
      ...options,
      // A wait hint only means something for an error worth retrying.
      retryAfterMs: retryable ? options.retryAfterMs : undefined,
    });
    this.name = 'HumeHttpError';
  }
}

/** The call did not finish within the client's timeout. */
export class HumeTimeoutError extends HumeError {
  constructor(options: HumeErrorOptions) {
    super('HUME_TIMEOUT', true, 'timed out', options);
    this.name = 'HumeTimeoutError';
  }
}

/** The connection failed (refused, reset, DNS, truncated body…). */
export class HumeNetworkError extends HumeError {
  constructor(options: HumeErrorOptions) {
    super('HUME_NETWORK', true, 'network error', options);
    this.name = 'HumeNetworkError';
  }
}

/** Hume answered 2xx with a body that is not what the API promises. */
export class HumeInvalidResponseError extends HumeError {
  constructor(options: HumeErrorOptions) {
    super('HUME_INVALID_RESPONSE', false, 'invalid response', options);
    this.name = 'HumeInvalidResponseError';
  }
}

/** We refused to send a request Hume would reject (bad options, over a limit, unreadable file). */
export class HumeInvalidRequestError extends HumeError {
  constructor(options: HumeErrorOptions) {
    super('HUME_INVALID_REQUEST', false, 'invalid request', options);
    this.name = 'HumeInvalidRequestError';
  }
}

const STATUS_CODE_MAP: Readonly<Record<number, HumeErrorCode>> = {
  400: 'HUME_BAD_REQUEST',
  401: 'HUME_UNAUTHORIZED',
  403: 'HUME_FORBIDDEN',
  404: 'HUME_NOT_FOUND',
  408: 'HUME_TIMEOUT',
  422: 'HUME_UNPROCESSABLE',
  429: 'HUME_RATE_LIMITED',
};

/** 408, 429 and 5xx are worth retrying (as the official SDK does); every other status is not. */
export function classifyStatus(status: number): { code: HumeErrorCode; retryable: boolean } {
  if (status >= 500) return { code: 'HUME_SERVER_ERROR', retryable: true };
  const code = STATUS_CODE_MAP[status] ?? 'HUME_HTTP_ERROR';
  return { code, retryable: code === 'HUME_TIMEOUT' || code === 'HUME_RATE_LIMITED' };
}

/** Error codes Node and undici use for failures of the connection itself, not of the request. */
const NETWORK_ERROR_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN',
  'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN', 'EPROTO',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);
/** llhttp parser errors (`HPE_*`): the server sent something that is not HTTP, e.g. a cut connection. */
const isNetworkCode = (code: string) => NETWORK_ERROR_CODES.has(code) || code.startsWith('HPE_');

/** The first error in `e`'s `cause` chain that carries a network error code, if any. */
export function findNetworkError(e: unknown): (Error & { code: string }) | undefined {
  for (let err = e, depth = 0; err instanceof Error && depth < 5; err = err.cause, depth++) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && isNetworkCode(code)) return err as Error & { code: string };
  }
  return undefined;
}

/**
 * Whether an activity should retry after `e`: the classification of a HumeError, and `true` for
 * network failures that escaped the client (e.g. from a stream consumer).
 */
export function isRetryableHumeError(e: unknown): boolean {
  if (e instanceof HumeError) return e.retryable;
  return findNetworkError(e) !== undefined;
}
