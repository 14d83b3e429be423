/**
 * Emulator options: one zod schema, defaults in one block, every failure naming the option.
 */
import { z } from 'zod';
import { HUME_LIMITS } from '../hume/limits.js';
import { BackendsOptionSchema, HTTP_BACKEND_DEFAULTS, HttpBackendOptionsSchema } from './backends/index.js';

/** Where an emulator writes what it does; silent unless given one. */
export interface EmulatorLogger {
  info(message: string): void;
  warn(message: string): void;
}

export const FAULT_ROUTES = ['list', 'submit', 'details', 'predictions', 'artifacts'] as const;
export type FaultRoute = (typeof FAULT_ROUTES)[number];

export const DEFAULTS = {
  host: '127.0.0.1',
  /** 0 = any free port. */
  port: 0,
  apiKey: 'emulator-dev-key',
  timing: {
    /** Time a job stays QUEUED, ms, drawn uniformly from [min, max]. */
    queuedMs: [50, 100] as [number, number],
    /** Time a job stays IN_PROGRESS, ms, drawn uniformly from [min, max]. */
    processingMs: [100, 200] as [number, number],
  },
  /** Jobs QUEUED at once before submits get 429 (Hume's documented cap). */
  maxQueuedJobs: HUME_LIMITS.maxQueuedJobs,
  /** API requests per second before 429; null = unlimited. */
  rateLimit: null as number | null,
  callback: {
    /** Extra attempts after a non-2xx answer or network error. */
    retries: 3,
    /** First retry delay, ms; doubles each attempt. */
    backoffMs: 200,
    /** One attempt's timeout, ms, plus a second per 10 MB of body. */
    timeoutMs: 10_000,
    /** Signs callbacks EVI-style when set (X-Hume-AI-Webhook-Signature/-Timestamp). */
    hmacKey: undefined as string | undefined,
  },
  /** Which http(s) URLs are really downloaded; the others get content derived from the URL string. */
  fetchUrls: 'loopback' as 'loopback' | 'all' | 'none',
  /** How long a URL download may go without a byte, ms. */
  fetchTimeoutMs: 10_000,
  /** Seeds job timing and fault draws (predictions are seeded by content, not by this). */
  seed: 1,
  /**
   * Folder for every job's inputs and outputs (texts, uploads, downloads, predictions,
   * artifacts); undefined = a fresh temp folder, removed on close (a given one is kept).
   */
  dataDir: undefined as string | undefined,
  /** Model servers reached by an http(s) backend (backends/http.ts). */
  httpBackend: HTTP_BACKEND_DEFAULTS,
  faults: {
    /** Delay before every API request is handled, ms. */
    latencyMs: 0,
    /** Fraction of API requests answered with a 5xx. */
    serverErrorRate: 0,
    /** Fraction of API requests whose connection is destroyed without an answer. */
    resetRate: 0,
    /** Fraction of API requests that start a burst of 429s. */
    tooManyRequestsRate: 0,
    /** Requests answered 429 in a row once a burst starts. */
    tooManyRequestsBurst: 1,
    /** Retry-After sent with injected 429s and 5xx, seconds. */
    retryAfterSeconds: 1,
    /** Fraction of callbacks never sent. */
    callbackDropRate: 0,
    /** Fraction of callbacks sent twice. */
    callbackDuplicateRate: 0,
    /** Delay before each callback is sent, ms. */
    callbackDelayMs: 0,
    /** Fraction of jobs that end FAILED. */
    jobFailureRate: 0,
  },
};

const rate = z.number().min(0).max(1);
const ms = z.number().min(0);

export const FaultsSchema = z.strictObject({
  latencyMs: ms,
  serverErrorRate: rate,
  resetRate: rate,
  tooManyRequestsRate: rate,
  tooManyRequestsBurst: z.number().int().min(1),
  retryAfterSeconds: z.number().int().min(0),
  callbackDropRate: rate,
  callbackDuplicateRate: rate,
  callbackDelayMs: ms,
  jobFailureRate: rate,
});
export type Faults = z.infer<typeof FaultsSchema>;

/** A range in ms: `[min, max]`, or one number for a fixed time. */
const Range = z
  .union([ms, z.tuple([ms, ms])])
  .transform((v): [number, number] => (typeof v === 'number' ? [v, v] : v))
  .refine(([min, max]) => min <= max, 'min must not exceed max');

const limitKeys = Object.keys(HUME_LIMITS) as (keyof typeof HUME_LIMITS)[];
/** Hume's limits may be lowered (to test them cheaply), never raised. */
const Limits = z.strictObject(
  Object.fromEntries(limitKeys.map((k) => [k, z.number().int().min(1).max(HUME_LIMITS[k]).optional()])) as {
    [K in keyof typeof HUME_LIMITS]: z.ZodOptional<z.ZodNumber>;
  },
);

const Logger = z.custom<EmulatorLogger>(
  (v) => typeof v === 'object' && v !== null && typeof (v as EmulatorLogger).info === 'function' &&
    typeof (v as EmulatorLogger).warn === 'function',
  'must have info() and warn()',
);

const OptionsSchema = z.strictObject({
  host: z.string().min(1).default(DEFAULTS.host),
  port: z.number().int().min(0).max(65535).default(DEFAULTS.port),
  apiKey: z.string().min(1).default(DEFAULTS.apiKey),
  timing: z
    .strictObject({
      queuedMs: Range.default(DEFAULTS.timing.queuedMs),
      processingMs: Range.default(DEFAULTS.timing.processingMs),
    })
    .default(DEFAULTS.timing),
  maxQueuedJobs: z.number().int().min(1).default(DEFAULTS.maxQueuedJobs),
  rateLimit: z.number().positive().nullable().default(DEFAULTS.rateLimit),
  callback: z
    .strictObject({
      retries: z.number().int().min(0).default(DEFAULTS.callback.retries),
      backoffMs: ms.default(DEFAULTS.callback.backoffMs),
      timeoutMs: z.number().positive().default(DEFAULTS.callback.timeoutMs),
      hmacKey: z.string().min(1).optional(),
    })
    .default(DEFAULTS.callback),
  fetchUrls: z.enum(['loopback', 'all', 'none']).default(DEFAULTS.fetchUrls),
  fetchTimeoutMs: z.number().positive().default(DEFAULTS.fetchTimeoutMs),
  limits: Limits.default({}),
  faults: FaultsSchema.partial().default({}),
  seed: z.union([z.number(), z.string()]).default(DEFAULTS.seed),
  dataDir: z.string().min(1).optional(),
  /**
   * Where each model's predictions come from: `synthetic` (the default for every model),
   * `face-api` (face only), a model server's http(s) URL, or a `ModelBackend` (kept open: its
   * creator closes it).
   */
  backends: BackendsOptionSchema.default({}),
  httpBackend: HttpBackendOptionsSchema.default(DEFAULTS.httpBackend),
  logger: Logger.optional(),
});

export type HumeEmulatorOptions = z.input<typeof OptionsSchema>;
export type ResolvedOptions = Omit<z.output<typeof OptionsSchema>, 'faults' | 'limits'> & {
  faults: Faults;
  limits: { -readonly [K in keyof typeof HUME_LIMITS]: number };
};

/** Validates options and fills defaults; throws naming the first bad option. */
export function resolveOptions(options: HumeEmulatorOptions = {}): ResolvedOptions {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TypeError(`invalid emulator option ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  return {
    ...parsed.data,
    faults: { ...DEFAULTS.faults, ...parsed.data.faults },
    limits: { ...HUME_LIMITS, ...parsed.data.limits },
  };
}

export const FailNextRuleSchema = z.strictObject({
  count: z.number().int().min(1),
  /** HTTP status to answer; default 503. */
  status: z.number().int().min(400).max(599).optional(),
  /** Destroy the connection instead of answering. */
  reset: z.boolean().optional(),
  /** Only requests to this route; any API route when omitted. */
  route: z.enum(FAULT_ROUTES).optional(),
  retryAfterSeconds: z.number().int().min(0).optional(),
  /**
   * Handle the request first, then lose the answer: a submit creates its job but the client sees
   * the fault (the ambiguous failure that duplicate-job protection must survive).
   */
  afterHandling: z.boolean().optional(),
});
export type FailNextRule = z.infer<typeof FailNextRuleSchema>;
