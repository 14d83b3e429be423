/** src/logging.ts: JSON lines in which no configured secret, API-key header or callback token survives. */
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { createLogger, REDACTED } from '../../src/logging.js';

const env = {
  HUME_API_KEY: 'hume-key-0123456789abcdef',
  HUME_WEBHOOK_SECRET: 'webhook-secret-"quoted"-0123',
  HUME_WEBHOOK_SECRET_PREVIOUS: 'previous-secret/with+chars=0123',
  TEMPORAL_API_KEY: 'temporal-cloud-key-abcdef0123',
  TEMPORAL_HUME_CODEC_KEYS_PREVIOUS: 'k1:b2xkLWtleS1vbmUtMzItYnl0ZXMtbG9uZy0xMjM0NTY=,k2:b2xkLWtleS10d28tMzItYnl0ZXMtbG9uZy0xMjM0NTY=',
  LOG_LEVEL: 'debug',
};

function capture(environment: NodeJS.ProcessEnv = env) {
  const lines: string[] = [];
  const logger = createLogger(environment, { write: (line: string) => lines.push(line) });
  return { logger, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('createLogger', () => {
  it('redacts secrets by value anywhere in a line, and by path in headers, query tokens and secret fields', () => {
    const { logger, lines, records } = capture();
    logger.info(
      { headers: { 'x-hume-api-key': 'another-key-not-in-env', accept: 'application/json' }, query: { token: 'tok-123' } },
      `calling Hume with ${env.HUME_API_KEY}`,
    );
    logger.warn({ req: { url: '/hume/callback/wf-1?token=abc.def-123&x=1', headers: { authorization: 'Bearer sk-1' } } }, 'callback');
    logger.error({ err: new Error(`bad secret ${env.HUME_WEBHOOK_SECRET}`), apiKey: 'k', secrets: ['s1', 's2'] }, 'failed');
    logger.debug({ callbackUrl: `https://x.example/cb?token=${encodeURIComponent(env.HUME_WEBHOOK_SECRET_PREVIOUS)}` }, env.TEMPORAL_API_KEY);
    logger.info({ keyInUse: 'b2xkLWtleS10d28tMzItYnl0ZXMtbG9uZy0xMjM0NTY=' }, 'decrypting');

    const text = lines.join('');
    const codecKeys = env.TEMPORAL_HUME_CODEC_KEYS_PREVIOUS.split(',').map((entry) => entry.slice(3));
    for (const secret of [...Object.values(env).filter((v) => v.length > 8), ...codecKeys, 'another-key-not-in-env', 'tok-123', 'abc.def-123', 'sk-1']) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(JSON.stringify(secret).slice(1, -1));
    }
    const [first, second, third, fourth, fifth] = records();
    expect(first).toMatchObject({
      msg: `calling Hume with ${REDACTED}`,
      headers: { 'x-hume-api-key': REDACTED, accept: 'application/json' },
      query: { token: REDACTED },
    });
    expect(second).toMatchObject({ req: { url: `/hume/callback/wf-1?token=${REDACTED}&x=1`, headers: { authorization: REDACTED } } });
    expect(third).toMatchObject({ apiKey: REDACTED, secrets: REDACTED, err: { message: `bad secret ${REDACTED}` } });
    expect(fourth).toMatchObject({ msg: REDACTED, callbackUrl: `https://x.example/cb?token=${REDACTED}` });
    expect(fifth).toMatchObject({ keyInUse: REDACTED });
  });

  it('follows LOG_LEVEL and refuses an unknown one', () => {
    const { logger, lines } = capture({ LOG_LEVEL: 'warn' });
    logger.info('hidden');
    logger.warn('shown');
    expect(lines).toHaveLength(1);
    expect(() => createLogger({ LOG_LEVEL: 'chatty' })).toThrow(ConfigError);
  });

  it('writes an error logged as `error` (as the SDK logs a failed activity) with its message, type and cause, scrubbed', () => {
    const { logger, records, lines } = capture();
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const failure = ApplicationFailure.create({ message: `Hume listJobs: network error (key ${env.HUME_API_KEY})`, type: 'HUME_NETWORK', cause });
    logger.warn({ error: failure, durationMs: 12 }, 'Activity failed');
    const [record] = records();
    expect(record).toMatchObject({
      msg: 'Activity failed',
      durationMs: 12,
      error: { type: 'HUME_NETWORK', name: 'ApplicationFailure', message: `Hume listJobs: network error (key ${REDACTED})`, stack: expect.any(String) },
    });
    expect(JSON.stringify(record)).toContain('ECONNREFUSED');
    expect(lines.join('')).not.toContain(env.HUME_API_KEY);
  });
});
