/**
 * Configuration from the environment (flags override it in the CLI). Temporal connection settings
 * come from `@temporalio/envconfig`, the way every Temporal tool reads them; ours are validated here.
 */
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { z } from 'zod';
import { DEFAULT_RATE_LIMIT } from './hume/rate-limit.js';
import { DEFAULT_MAX_CONCURRENT_TRANSFERS } from './hume/transfer-slots.js';
import { describeIssues } from './schemas/issues.js';
import { DEFAULT_TASK_QUEUE } from './workflows/definitions.js';

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

export const HumeEnv = z.object({
  HUME_API_KEY: optionalString,
  HUME_BASE_URL: z.url({ protocol: /^https?$/ }).default('https://api.hume.ai'),
  /** Requests per second this process sends to Hume, every client together (bursts of as many). */
  HUME_MAX_REQUESTS_PER_SECOND: optionalString
    .pipe(z.coerce.number<string>().positive().optional())
    .transform((v) => v ?? DEFAULT_RATE_LIMIT.requestsPerSecond),
  /** Uploads with files and predictions/artifacts downloads this process runs at once; the rest wait their turn. */
  HUME_MAX_CONCURRENT_TRANSFERS: optionalString
    .pipe(z.coerce.number<string>().int().min(1).optional())
    .transform((v) => v ?? DEFAULT_MAX_CONCURRENT_TRANSFERS),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE),
  /**
   * Public base URL at which Hume reaches the webhook receiver; unset means polling mode. `auto`:
   * the receiver's own address once it listens (`http://HOST:<actual port>`), for loopback setups
   * where Hume (the emulator) runs on the same host, so `HUME_WEBHOOK_PORT=0` works.
   */
  HUME_CALLBACK_BASE_URL: optionalString.pipe(z.union([z.literal('auto'), z.url({ protocol: /^https?$/ })]).optional()),
  HUME_WEBHOOK_SECRET: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  /** The previous secret, still accepted during a rotation. */
  HUME_WEBHOOK_SECRET_PREVIOUS: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  HUME_WEBHOOK_HOST: z.string().default('127.0.0.1'),
  HUME_WEBHOOK_PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  /** `off` when a separate `temporal-hume webhook` service receives callbacks: the worker only signs URLs. */
  HUME_WEBHOOK_RECEIVER: z.enum(['on', 'off']).default('on'),
  /** A folder the worker's runs write under: checked writable when the worker starts. Runs still choose theirs (`run --out`). */
  HUME_RESULTS_ROOT: optionalString,
  /** `HOST:PORT` at which the worker serves Prometheus metrics (`/metrics`): the SDK's and ours. Unset: none. */
  TEMPORAL_HUME_METRICS_ADDRESS: optionalString.pipe(z.string().regex(/^[^:\s]+:\d{1,5}$/, 'HOST:PORT, e.g. 0.0.0.0:9464').optional()),
  /** Worker Versioning: the worker deployment this worker belongs to, with TEMPORAL_HUME_BUILD_ID. Unset: unversioned. */
  TEMPORAL_HUME_DEPLOYMENT_NAME: optionalString.pipe(z.string().regex(/^[^.:\s]+$/, 'no dots, colons or spaces (Temporal joins name and build id with them)').optional()),
  /** This worker's version of TEMPORAL_HUME_DEPLOYMENT_NAME (a release, a git commit). */
  TEMPORAL_HUME_BUILD_ID: optionalString,
});
export type HumeEnv = z.infer<typeof HumeEnv>;

/** Hosts at which only this machine reaches the receiver: `auto` callback URLs are for these. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** The callback base URL for a receiver listening at `receiverUrl`: the configured one, or that address for `auto`. */
export function callbackBaseUrl(config: HumeEnv, receiverUrl?: string): string | undefined {
  if (config.HUME_CALLBACK_BASE_URL !== 'auto') return config.HUME_CALLBACK_BASE_URL;
  if (!receiverUrl) throw new ConfigError('invalid configuration: HUME_CALLBACK_BASE_URL=auto, but no receiver is listening');
  return receiverUrl;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadHumeEnv(env: NodeJS.ProcessEnv = process.env): HumeEnv {
  const parsed = HumeEnv.safeParse(env);
  if (!parsed.success) throw new ConfigError(`invalid configuration: ${describeIssues(parsed.error)}`);
  const config = parsed.data;
  if (!config.TEMPORAL_HUME_DEPLOYMENT_NAME !== !config.TEMPORAL_HUME_BUILD_ID) {
    throw new ConfigError('invalid configuration: TEMPORAL_HUME_DEPLOYMENT_NAME and TEMPORAL_HUME_BUILD_ID go together: set both for Worker Versioning, or neither');
  }
  if (config.HUME_CALLBACK_BASE_URL && !config.HUME_WEBHOOK_SECRET) {
    throw new ConfigError('invalid configuration: HUME_CALLBACK_BASE_URL is set but HUME_WEBHOOK_SECRET is not');
  }
  if (config.HUME_CALLBACK_BASE_URL === 'auto') {
    if (config.HUME_WEBHOOK_RECEIVER === 'off') {
      throw new ConfigError('invalid configuration: HUME_CALLBACK_BASE_URL=auto needs the worker\'s own receiver (HUME_WEBHOOK_RECEIVER=on): give the webhook service\'s public URL instead');
    }
    if (!LOOPBACK_HOSTS.has(config.HUME_WEBHOOK_HOST)) {
      throw new ConfigError(
        `invalid configuration: HUME_CALLBACK_BASE_URL=auto is for a receiver on a loopback address (HUME_WEBHOOK_HOST is ${config.HUME_WEBHOOK_HOST}): give the public URL Hume reaches`,
      );
    }
  }
  return config;
}

/** The accepted webhook secrets, current first. */
export function webhookSecrets(config: HumeEnv): string[] {
  return [config.HUME_WEBHOOK_SECRET, config.HUME_WEBHOOK_SECRET_PREVIOUS].filter((s): s is string => !!s);
}

/**
 * Temporal could not be reached at `address`. The message is one line for a person: the SDK's
 * own (`tonic::transport::Error(Transport, ConnectError(…))`) is cut to its reason.
 */
export class TemporalUnreachableError extends Error {
  override readonly name = 'TemporalUnreachableError';
  constructor(
    readonly address: string,
    cause: unknown,
  ) {
    super(`cannot reach Temporal at ${address} (${connectReason(cause)})`, { cause });
  }
}

/** The reason inside a connection error: `Connection refused`, `dns error: …`, or the message's first line. */
export function connectReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const os = /message: \\?"([^"\\]+)\\?"/.exec(message);
  if (os?.[1]) return os[1];
  const lookup = /error: \\?"([^"\\]+)\\?"/.exec(message);
  if (lookup?.[1]) return lookup[1];
  if (/deadline/i.test(message)) return 'no answer before the connect timeout';
  return message.split('\n')[0]?.replace(/^tonic::transport::Error\(/, '').slice(0, 200) ?? message;
}

/** Temporal address, namespace, TLS and API key from TEMPORAL_* variables and profiles. */
export function loadTemporalConnectConfig(env: NodeJS.ProcessEnv = process.env) {
  const { connectionOptions, namespace } = loadClientConnectConfig({
    overrideEnvVars: Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)),
  });
  return {
    connectionOptions: { ...connectionOptions, address: connectionOptions.address ?? 'localhost:7233' },
    namespace: namespace ?? 'default',
  };
}
