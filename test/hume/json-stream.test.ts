import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { JsonStreamError, parseJsonStream } from '../../src/hume/json-stream.js';

/** The text of `doc` in chunks of `size` bytes, as a socket delivers it. */
const chunked = (doc: string, size = 7) => {
  const bytes = Buffer.from(doc);
  return Readable.from(Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size)));
};

describe('parseJsonStream', () => {
  it('parses like JSON.parse except for the skipped values, replaced where asked', async () => {
    const doc = { job_id: 'j', n: 1.5, ok: true, none: null, request: { text: ['a long text', 'é ü'], urls: ['u'] }, tail: 'ünïcode' };
    const parsed = await parseJsonStream(chunked(JSON.stringify(doc)), { skip: /^request\.text\.\d+$/, replacement: '' });
    expect(parsed).toEqual({ ...doc, request: { text: ['', ''], urls: ['u'] } });
  });

  it('removes skipped values with their keys when no replacement is given', async () => {
    const doc = { job_id: 'j', predictions: [{ big: 'x'.repeat(1000) }], status: 'COMPLETED' };
    expect(await parseJsonStream(chunked(JSON.stringify(doc), 100), { skip: /^predictions$/ })).toEqual({ job_id: 'j', status: 'COMPLETED' });
  });

  it('refuses more kept characters than maxChars, but not skipped ones', async () => {
    const doc = JSON.stringify({ job_id: 'j', predictions: ['x'.repeat(5000)], message: 'y'.repeat(200) });
    await expect(parseJsonStream(chunked(doc), { skip: /^predictions$/, maxChars: 100 })).rejects.toMatchObject({ tooLarge: true });
    expect(await parseJsonStream(chunked(doc), { skip: /^predictions$/, maxChars: 300 })).toMatchObject({ job_id: 'j' });
  });

  it.each(['{"job_id": ', 'not json', ''])('refuses %j as not JSON', async (text) => {
    await expect(parseJsonStream(chunked(text), { skip: /^$/ })).rejects.toBeInstanceOf(JsonStreamError);
  });

  it('rethrows a failure of the body itself untouched', async () => {
    const cut = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    async function* body() {
      yield Buffer.from('{"a": [1, 2');
      throw cut;
    }
    await expect(parseJsonStream(body(), { skip: /^$/ })).rejects.toBe(cut);
  });
});
