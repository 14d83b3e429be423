/**
 * Encryption keys from the environment. Unset means no encryption; half a configuration is refused,
 * since a worker that silently writes plaintext is worse than one that does not start. Messages
 * name the variable, never a key's bytes.
 */
import type { DataConverter } from '@temporalio/common';
import { ConfigError } from '../config.js';
import { type CodecKey, CodecKeyError, createEncryptionCodec } from './encryption.js';

const CODEC_ENV = {
  keyId: 'TEMPORAL_HUME_CODEC_KEY_ID',
  key: 'TEMPORAL_HUME_CODEC_KEY',
  previous: 'TEMPORAL_HUME_CODEC_KEYS_PREVIOUS',
} as const;

/** The keys the environment configures, current first; undefined when encryption is off. */
export function codecKeysFromEnv(env: NodeJS.ProcessEnv = process.env): CodecKey[] | undefined {
  const id = env[CODEC_ENV.keyId] || undefined;
  const key = env[CODEC_ENV.key] || undefined;
  const previous = env[CODEC_ENV.previous] || undefined;
  if (!id && !key && !previous) return undefined;
  if (!id || !key) {
    throw new ConfigError(`invalid configuration: ${CODEC_ENV.keyId} and ${CODEC_ENV.key} must be set together${previous ? ` (${CODEC_ENV.previous} needs them)` : ''}`);
  }
  const keys = [{ id, key: decodeKey(key, CODEC_ENV.key) }];
  for (const [i, entry] of (previous ?? '').split(',').map((e) => e.trim()).filter(Boolean).entries()) {
    const colon = entry.indexOf(':');
    if (colon <= 0) throw new ConfigError(`invalid configuration: ${CODEC_ENV.previous} entry ${i + 1} is not id:base64`);
    keys.push({ id: entry.slice(0, colon), key: decodeKey(entry.slice(colon + 1), `${CODEC_ENV.previous} entry ${i + 1}`) });
  }
  return keys;
}

/** A DataConverter that encrypts every payload, or undefined when no key is configured. */
export function dataConverterFromEnv(env: NodeJS.ProcessEnv = process.env): DataConverter | undefined {
  const keys = codecKeysFromEnv(env);
  if (!keys) return undefined;
  try {
    return { payloadCodecs: [createEncryptionCodec(keys)] };
  } catch (err) {
    if (err instanceof CodecKeyError) throw new ConfigError(`invalid configuration: ${err.message}`);
    throw err;
  }
}

function decodeKey(value: string, name: string): Buffer {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) throw new ConfigError(`invalid configuration: ${name} is not base64`);
  const key = Buffer.from(value, 'base64');
  if (key.length !== 32) throw new ConfigError(`invalid configuration: ${name} decodes to ${key.length} bytes; it must be 32 (openssl rand -base64 32)`);
  return key;
}
