/**
 * Structured logs (JSON lines, pino) that never carry a secret. Two nets: known places a secret
 * sits (headers, `token`, `apiKey`, `secret(s)` fields) are censored by path, and every written
 * line is scrubbed of the configured secret values themselves and of `token=` query parameters,
 * so a secret inside a message, an error or a URL is caught too.
 */
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { ConfigError } from './config.js';

export const REDACTED = '[redacted]';

/** Environment variables whose values must never be written. */
const SECRET_VARIABLES = [
  'HUME_API_KEY',
  'HUME_WEBHOOK_SECRET',
  'HUME_WEBHOOK_SECRET_PREVIOUS',
  'TEMPORAL_API_KEY',
  'TEMPORAL_HUME_CODEC_KEY',
  'TEMPORAL_HUME_CODEC_KEYS_PREVIOUS',
];

/** Values shorter than this are not secrets worth scrubbing (and would mangle every line). */
const MIN_SECRET_LENGTH = 8;

const REDACT_PATHS = [
  'headers["x-hume-api-key"]',
  'headers.authorization',
  'headers.cookie',
  '*.headers["x-hume-api-key"]',
  '*.headers.authorization',
  '*.headers.cookie',
  'query.token',
  '*.query.token',
  'token',
  'apiKey',
  '*.apiKey',
  'secret',
  'secrets',
  '*.secret',
  '*.secrets',
];

/** `?token=…` / `&token=…` in any URL, e.g. a callback URL in a request log. */
const TOKEN_PARAM = /([?&]token=)[^&"\s\\]+/g;

/** Pino options: level from LOG_LEVEL (default info), censored paths, and the scrubbing hook. */
export function loggerOptions(env: NodeJS.ProcessEnv = process.env): LoggerOptions {
  const level = env.LOG_LEVEL || 'info';
  if (!(level in pino.levels.values) && level !== 'silent') {
    throw new ConfigError(`invalid configuration: LOG_LEVEL: expected one of ${Object.keys(pino.levels.values).join(', ')}, silent`);
  }
  return {
    level,
    // Errors keep their message and stack under either key (the SDK logs failures as `error`).
    serializers: { err: serializeError, error: serializeError },
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    hooks: { streamWrite: scrubber(env) },
  };
}

/**
 * An error as a plain object: name, message, stack and causes (an Error's own fields are not
 * enumerable, so without this `{"error":{"type":"HUME_NETWORK"}}` was all a failure left). A
 * Temporal failure's `type` (`HUME_NETWORK`) stays `type`; the class is `name`.
 */
function serializeError(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const serialized = pino.stdSerializers.errWithCause(value) as Record<string, unknown>;
  const own = (value as { type?: unknown }).type;
  return { ...serialized, name: value.name, type: typeof own === 'string' ? own : serialized.type };
}

/** A JSON-lines logger on stderr (or `destination`), configured and scrubbed from `env`. */
export function createLogger(env: NodeJS.ProcessEnv = process.env, destination: DestinationStream = pino.destination({ dest: 2, sync: true })): Logger {
  return pino(loggerOptions(env), destination);
}

/** Replaces each secret as it may appear in a line: raw, JSON-escaped or URL-encoded. */
function scrubber(env: NodeJS.ProcessEnv): (line: string) => string {
  const forms = new Set<string>();
  for (const name of SECRET_VARIABLES) {
    // Lists (`id:key,id:key`) are scrubbed whole and by part.
    const value = env[name] ?? '';
    for (const secret of [value, ...value.split(/[,:]/)]) {
      if (secret.length < MIN_SECRET_LENGTH) continue;
      forms.add(secret);
      forms.add(JSON.stringify(secret).slice(1, -1));
      forms.add(encodeURIComponent(secret));
    }
  }
  // Longest first, so a form containing another is replaced whole.
  const secrets = [...forms].sort((a, b) => b.length - a.length);
  return (line) => {
    let out = line.replace(TOKEN_PARAM, `$1${REDACTED}`);
    for (const secret of secrets) out = out.replaceAll(secret, REDACTED);
    return out;
  };
}
