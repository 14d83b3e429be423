import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { codecKeysFromEnv, createEncryptionCodec, dataConverterFromEnv } from '../../src/codec/index.js';
import { ConfigError } from '../../src/config.js';

const b64 = () => randomBytes(32).toString('base64');

describe('dataConverterFromEnv', () => {
  it('is undefined when no key is configured', () => {
    expect(dataConverterFromEnv({})).toBeUndefined();
    expect(dataConverterFromEnv({ TEMPORAL_HUME_CODEC_KEY: '', TEMPORAL_HUME_CODEC_KEY_ID: '' })).toBeUndefined();
  });

  it('reads the current key and the previous ones, current first', async () => {
    const old = b64();
    const env = { TEMPORAL_HUME_CODEC_KEY_ID: 'k2', TEMPORAL_HUME_CODEC_KEY: b64(), TEMPORAL_HUME_CODEC_KEYS_PREVIOUS: `k1:${old}, k0:${b64()}` };
    expect(codecKeysFromEnv(env)?.map((k) => k.id)).toEqual(['k2', 'k1', 'k0']);
    const [written] = await createEncryptionCodec([{ id: 'k1', key: Buffer.from(old, 'base64') }]).encode([defaultPayloadConverter.toPayload('hi')]);
    const [codec] = dataConverterFromEnv(env)!.payloadCodecs!;
    expect(defaultPayloadConverter.fromPayload((await codec!.decode([written!]))[0]!)).toBe('hi');
  });

  it('refuses half a configuration and bad keys, naming the variable and never the key', () => {
    const short = randomBytes(16).toString('base64');
    const cases: Array<[NodeJS.ProcessEnv, RegExp]> = [
      [{ TEMPORAL_HUME_CODEC_KEY: b64() }, /TEMPORAL_HUME_CODEC_KEY_ID and TEMPORAL_HUME_CODEC_KEY must be set together/],
      [{ TEMPORAL_HUME_CODEC_KEYS_PREVIOUS: `a:${b64()}` }, /needs them/],
      [{ TEMPORAL_HUME_CODEC_KEY_ID: 'k', TEMPORAL_HUME_CODEC_KEY: short }, /TEMPORAL_HUME_CODEC_KEY decodes to 16 bytes; it must be 32/],
      [{ TEMPORAL_HUME_CODEC_KEY_ID: 'k', TEMPORAL_HUME_CODEC_KEY: 'not base64!' }, /TEMPORAL_HUME_CODEC_KEY is not base64/],
      [{ TEMPORAL_HUME_CODEC_KEY_ID: 'k', TEMPORAL_HUME_CODEC_KEY: b64(), TEMPORAL_HUME_CODEC_KEYS_PREVIOUS: short }, /KEYS_PREVIOUS entry 1 is not id:base64/],
      [{ TEMPORAL_HUME_CODEC_KEY_ID: 'k', TEMPORAL_HUME_CODEC_KEY: b64(), TEMPORAL_HUME_CODEC_KEYS_PREVIOUS: `k:${b64()}` }, /"k" is given twice/],
    ];
    for (const [env, message] of cases) {
      const err = (() => {
        try {
          dataConverterFromEnv(env);
        } catch (e) {
          return e as Error;
        }
        throw new Error(`accepted ${JSON.stringify(env)}`);
      })();
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.message).toMatch(message);
      expect(err.message).not.toContain(short);
    }
  });
});
