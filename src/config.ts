/**
 * Configuration from the environment (flags override it in the CLI). Temporal connection settings
 * come from `@temporalio/envconfig`, the way every Temporal tool reads them; ours are validated here.
 */
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { z } from 'zod';
import { DEFAULT_RATE_LIMIT } from './hume/rate-limit.js';
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
  TEMPORAL_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE),
  /** Public base URL at which Hume reaches the webhook receiver; unset means polling mode. */
  HUME_CALLBACK_BASE_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  HUME_WEBHOOK_SECRET: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  /** The previous secret, still accepted during a rotation. */
  HUME_WEBHOOK_SECRET_PREVIOUS: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  HUME_WEBHOOK_HOST: z.string().default('127.0.0.1'),
  HUME_WEBHOOK_PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  /** `off` when a separate `temporal-hume webhook` service receives callbacks: the worker only signs URLs. */
  HUME_WEBHOOK_RECEIVER: z.enum(['on', 'off']).default('on'),
});
export type HumeEnv = z.infer<typeof HumeEnv>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadHumeEnv(env: NodeJS.ProcessEnv = process.env): HumeEnv {
  const parsed = HumeEnv.safeParse(env);
  if (!parsed.success) throw new ConfigError(`invalid configuration: ${describeIssues(parsed.error)}`);
  const config = parsed.data;
  if (config.HUME_CALLBACK_BASE_URL && !config.HUME_WEBHOOK_SECRET) {
    throw new ConfigError('invalid configuration: HUME_CALLBACK_BASE_URL is set but HUME_WEBHOOK_SECRET is not');
  }
  return config;
}

/** The accepted webhook secrets, current first. */
export function webhookSecrets(config: HumeEnv): string[] {
  return [config.HUME_WEBHOOK_SECRET, config.HUME_WEBHOOK_SECRET_PREVIOUS].filter((s): s is string => !!s);
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
