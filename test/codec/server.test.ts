import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCodecServer, createEncryptionCodec, ENCRYPTED_ENCODING } from '../../src/codec/index.js';
import { toJson } from '../../src/codec/json.js';

const UI = 'http://localhost:8233';
const AUTH = 'Bearer codec-test-token-123';

describe('codec server', () => {
  let app: FastifyInstance;
  beforeAll(() => {
    app = buildCodecServer({ codecs: [createEncryptionCodec([{ id: 'k1', key: randomBytes(32) }])], origins: [UI], authorization: AUTH });
  });
  afterAll(() => app.close());

  const post = (url: string, payload: unknown, headers: Record<string, string> = { authorization: AUTH, origin: UI }) =>
    app.inject({ method: 'POST', url, payload: payload as object, headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers } });

  it('encodes and decodes the UI’s JSON format, with CORS for the UI origin', async () => {
    const original = toJson([defaultPayloadConverter.toPayload({ text: 'secret words' })]);
    const encoded = await post('/encode', original);
    expect(encoded.statusCode).toBe(200);
    expect(encoded.headers['access-control-allow-origin']).toBe(UI);
    const body = encoded.json<{ payloads: Array<{ metadata: Record<string, string>; data: string }> }>();
    expect(Buffer.from(body.payloads[0]!.metadata.encoding!, 'base64').toString()).toBe(ENCRYPTED_ENCODING);
    expect(Buffer.from(body.payloads[0]!.data, 'base64').toString()).not.toContain('secret words');

    const decoded = await post('/decode', body);
    expect(decoded.statusCode).toBe(200);
    expect(decoded.json()).toEqual(original);
  });

  it('answers the browser’s preflight without credentials', async () => {
    const res = await app.inject({
      method: 'OPTIONS',
      url: '/decode',
      headers: { origin: UI, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
    });
    expect(res.statusCode).toBe(204);
    expect(res.headers).toMatchObject({
      'access-control-allow-origin': UI,
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': expect.stringMatching(/X-Namespace/),
    });
  });

  it('gives other origins no CORS headers', async () => {
    const res = await post('/decode', { payloads: [] }, { authorization: AUTH, origin: 'https://evil.example' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses a missing or wrong Authorization header', async () => {
    for (const headers of [{ origin: UI }, { origin: UI, authorization: 'Bearer wrong' }] as Array<Record<string, string>>) {
      const res = await post('/decode', { payloads: [] }, headers);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ message: 'unauthorized' });
    }
  });

  it('answers 400 to malformed bodies and to payloads it cannot decrypt, naming the key id only', async () => {
    expect((await post('/decode', { nope: 1 })).statusCode).toBe(400);
    expect((await post('/decode', { payloads: [{ data: '%%%' }] })).statusCode).toBe(400);
    const foreign = await createEncryptionCodec([{ id: 'other', key: randomBytes(32) }]).encode([defaultPayloadConverter.toPayload(1)]);
    const res = await post('/decode', toJson(foreign));
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/unknown key id "other"/);
  });
});
