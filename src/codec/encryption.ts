/**
 * AES-256-GCM payload encryption: every payload leaves the client, worker and receiver as
 * ciphertext, so manifests (signed URLs, texts), inputs and results are unreadable in Temporal.
 * The whole Payload (metadata included) is encrypted; the key id travels in clear metadata so a
 * rotation can still decrypt payloads written under an older key.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';

const ProtoPayload = proto.temporal.api.common.v1.Payload;

/** `metadata.encoding` of an encrypted payload. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Metadata key naming the key a payload was encrypted with. */
export const KEY_ID_METADATA = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export interface CodecKey {
  /** Short, stable name of the key, stored in clear next to each payload. */
  id: string;
  /** 32 bytes. */
  key: Uint8Array;
}

export class CodecKeyError extends Error {
  override readonly name = 'CodecKeyError';
}

export class PayloadDecryptionError extends Error {
  override readonly name = 'PayloadDecryptionError';
}

/**
 * A PayloadCodec encrypting with `keys[0]` and decrypting with any of `keys` (the current key
 * first, then older ones still needed during a rotation).
 */
export function createEncryptionCodec(keys: readonly CodecKey[]): PayloadCodec {
  validateKeys(keys);
  const current = keys[0]!;
  const byId = new Map(keys.map((k) => [k.id, Buffer.from(k.key)]));
  return {
    async encode(payloads) {
      return payloads.map((payload) => encrypt(payload, current.id, Buffer.from(current.key)));
    },
    async decode(payloads) {
      return payloads.map((payload) => (isEncrypted(payload) ? decrypt(payload, byId) : payload));
    },
  };
}

function validateKeys(keys: readonly CodecKey[]): void {
  if (keys.length === 0) throw new CodecKeyError('createEncryptionCodec: at least one key is required');
  const seen = new Set<string>();
  for (const { id, key } of keys) {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) {
      throw new CodecKeyError(`encryption key id "${id}": use 1-64 letters, digits, dot, dash or underscore`);
    }
    if (seen.has(id)) throw new CodecKeyError(`encryption key id "${id}" is given twice`);
    seen.add(id);
    if (key.length !== KEY_BYTES) throw new CodecKeyError(`encryption key "${id}" has ${key.length} bytes; AES-256 needs ${KEY_BYTES}`);
  }
}

export function isEncrypted(payload: Payload): boolean {
  const encoding = payload.metadata?.encoding;
  return !!encoding && Buffer.from(encoding).toString() === ENCRYPTED_ENCODING;
}

function encrypt(payload: Payload, keyId: string, key: Buffer): Payload {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  // The key id is authenticated too: relabelling a payload with another key id fails decryption.
  cipher.setAAD(Buffer.from(keyId));
  const plain = ProtoPayload.encode(payload).finish();
  const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  return {
    metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: Buffer.from(keyId) },
    data,
  };
}

function decrypt(payload: Payload, keys: ReadonlyMap<string, Buffer>): Payload {
  const rawId = payload.metadata?.[KEY_ID_METADATA];
  const keyId = rawId ? Buffer.from(rawId).toString() : '';
  const key = keys.get(keyId);
  if (!key) {
    throw new PayloadDecryptionError(
      `payload encrypted with unknown key id "${keyId}" (known: ${[...keys.keys()].join(', ')}); ` +
        'add that key to TEMPORAL_HUME_CODEC_KEYS_PREVIOUS as id:base64',
    );
  }
  const data = Buffer.from(payload.data ?? []);
  if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError(`encrypted payload (key "${keyId}") is truncated`);
  const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(keyId));
  decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new PayloadDecryptionError(`encrypted payload (key "${keyId}") failed authentication: it was altered, or encrypted with another key under that id`);
  }
  return ProtoPayload.decode(plain);
}
