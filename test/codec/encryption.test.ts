import { randomBytes } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import {
  type CodecKey,
  CodecKeyError,
  createEncryptionCodec,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  PayloadDecryptionError,
} from '../../src/codec/index.js';

const key = (id: string): CodecKey => ({ id, key: randomBytes(32) });
const text = (p: Payload, field: 'data' | 'encoding') =>
  Buffer.from((field === 'data' ? p.data : p.metadata?.encoding) ?? []).toString();

const secretItem = { text: 'my private diary entry', url: 'https://bucket.example.com/clip.wav?X-Amz-Signature=abc123' };
const plain = () => [defaultPayloadConverter.toPayload(secretItem), defaultPayloadConverter.toPayload(null)];

describe('createEncryptionCodec', () => {
  it('round-trips payloads, metadata included, and leaves no plaintext in the encoded form', async () => {
    const codec = createEncryptionCodec([key('k1')]);
    const encoded = await codec.encode(plain());
    for (const payload of encoded) {
      expect(text(payload, 'encoding')).toBe(ENCRYPTED_ENCODING);
      expect(Buffer.from(payload.metadata![KEY_ID_METADATA]!).toString()).toBe('k1');
      expect(text(payload, 'data')).not.toMatch(/diary|X-Amz-Signature|json\/plain/);
    }
    const decoded = await codec.decode(encoded);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([secretItem, null]);
    expect(text(decoded[0]!, 'encoding')).toBe('json/plain');
  });

  it('encrypts the same payload differently each time (random IV)', async () => {
    const codec = createEncryptionCodec([key('k1')]);
    const [a, b] = await codec.encode([plain()[0]!, plain()[0]!]);
    expect(Buffer.compare(Buffer.from(a!.data!), Buffer.from(b!.data!))).not.toBe(0);
  });

  it('refuses a tampered payload', async () => {
    const codec = createEncryptionCodec([key('k1')]);
    const [payload] = await codec.encode(plain());
    const data = Buffer.from(payload!.data!);
    data[20] = data[20]! ^ 0x01;
    await expect(codec.decode([{ ...payload!, data }])).rejects.toThrow(PayloadDecryptionError);
    await expect(codec.decode([{ ...payload!, data }])).rejects.toThrow(/key "k1"\) failed authentication/);
    await expect(codec.decode([{ ...payload!, data: data.subarray(0, 10) }])).rejects.toThrow(/truncated/);
  });

  it('refuses a payload relabelled with another known key id', async () => {
    const a = key('a');
    const b = key('b');
    const [payload] = await createEncryptionCodec([a, b]).encode(plain());
    const relabelled = { ...payload!, metadata: { ...payload!.metadata, [KEY_ID_METADATA]: Buffer.from('b') } };
    await expect(createEncryptionCodec([a, b]).decode([relabelled])).rejects.toThrow(/key "b"\) failed authentication/);
  });

  it('names an unknown key id and how to supply it', async () => {
    const [payload] = await createEncryptionCodec([key('old')]).encode(plain());
    const err = await createEncryptionCodec([key('new')]).decode([payload!]).catch((e: Error) => e);
    expect(err).toBeInstanceOf(PayloadDecryptionError);
    expect((err as Error).message).toMatch(/unknown key id "old" \(known: new\).*TEMPORAL_HUME_CODEC_KEYS_PREVIOUS/);
  });

  it('during a rotation decrypts payloads written under the previous key and encrypts with the new one', async () => {
    const previous = key('2025-01');
    const current = key('2026-01');
    const [old] = await createEncryptionCodec([previous]).encode(plain());
    const rotated = createEncryptionCodec([current, previous]);
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([old!]))[0]!)).toEqual(secretItem);
    const [fresh] = await rotated.encode(plain());
    expect(Buffer.from(fresh!.metadata![KEY_ID_METADATA]!).toString()).toBe('2026-01');
  });

  it('passes payloads that were never encrypted through decode (histories from before encryption)', async () => {
    const codec = createEncryptionCodec([key('k1')]);
    const payloads = plain();
    expect(await codec.decode(payloads)).toEqual(payloads);
  });

  it('refuses bad keys, naming the key id but never its bytes', () => {
    expect(() => createEncryptionCodec([])).toThrow(CodecKeyError);
    expect(() => createEncryptionCodec([{ id: 'short', key: randomBytes(16) }])).toThrow(/"short" has 16 bytes; AES-256 needs 32/);
    expect(() => createEncryptionCodec([key('a'), key('a')])).toThrow(/"a" is given twice/);
    expect(() => createEncryptionCodec([key('a:b')])).toThrow(/key id "a:b"/);
  });
});
