import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { dropTopLevelValue } from '../../src/hume/json-skip.js';

/** `doc` through the filter in chunks of `size` bytes. */
async function filtered(doc: string, size: number): Promise<string> {
  const bytes = Buffer.from(doc);
  const chunks = Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
  return text(Readable.from(chunks).pipe(dropTopLevelValue('predictions')));
}

const tricky = ['a "quoted" ] } string', 'back\\slash\\', '{[', 'predictions'];
const values: unknown[] = [
  [{ source: { type: 'url' }, results: { predictions: [{ score: 0.5, text: tricky }] } }],
  { nested: { predictions: [1, 2] }, s: '}}]]' },
  'a string with \\" and "quotes" and } ]',
  -12.5e3,
  true,
  null,
  [],
];

describe('dropTopLevelValue', () => {
  it.each(values.map((v) => [JSON.stringify(v).slice(0, 30), v]))('replaces a top-level %s by null, in any chunking', async (_name, value) => {
    for (const spaced of [false, true]) {
      const doc = { job_id: 'j-1', predictions: value, status: 'COMPLETED', message: 'predictions: [ignored text]' };
      const json = spaced ? JSON.stringify(doc, null, 2) : JSON.stringify(doc);
      for (const size of [1, 3, 64, json.length]) {
        expect(JSON.parse(await filtered(json, size)), `size ${size}`).toEqual({ ...doc, predictions: null });
      }
    }
  });

  it('keeps a predictions key that is not top-level, and a value equal to the key', async () => {
    const doc = { results: { predictions: [1] }, list: [{ predictions: 2 }], name: 'predictions', predictionsX: 3 };
    expect(JSON.parse(await filtered(JSON.stringify(doc), 5))).toEqual(doc);
  });

  it('passes the last top-level key through when it is the skipped one', async () => {
    const json = '{"status":"FAILED","predictions":[[[{"a":"]"}]]]}';
    expect(JSON.parse(await filtered(json, 2))).toEqual({ status: 'FAILED', predictions: null });
  });
});
