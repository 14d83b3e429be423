/** The header is fixed by the first prediction; scores without a column go to `extra`, never lost. */
import { describe, expect, it } from 'vitest';
import { EXPRESSIONS_48, EXPRESSIONS_53 } from '../../src/emulator/names.js';
import { ModelTable, type PredictionOf } from '../../src/results/columns.js';

const scores = (names: readonly string[], score = 0.5) => names.map((name) => ({ name, score }));
const key = { itemId: 'i1', file: 'a.jpg', groupId: 'unknown' };

function face(extra: Partial<PredictionOf<'face'>> = {}): PredictionOf<'face'> {
  return { frame: 0, time: 0, prob: 0.99, box: { x: 1, y: 2, w: 3, h: 4 }, emotions: scores(EXPRESSIONS_48), ...extra };
}

describe('ModelTable', () => {
  it('takes face facs and descriptions columns (names never published) from the first prediction', () => {
    const table = new ModelTable('face', face({ facs: scores(['AU1', 'AU2']), descriptions: scores(['Smile']) }));
    expect(table.header.slice(10)).toEqual([...EXPRESSIONS_48, 'facs_AU1', 'facs_AU2', 'desc_Smile', 'extra']);
  });

  it('puts unknown names and families absent from the header in `extra`, and leaves missing scores empty', () => {
    const table = new ModelTable('face', face());
    const row = table.row(key, face({
      emotions: [{ name: 'Joy', score: 0.25 }, { name: 'Bliss', score: 0.75 }],
      facs: [{ name: 'AU9', score: 0.1 }],
    }));
    expect(row).toHaveLength(table.header.length);
    expect(row.slice(0, 10)).toEqual(['i1', 'a.jpg', 'unknown', 0, 0, 1, 2, 3, 4, 0.99]);
    expect(row[table.header.indexOf('Joy')]).toBe(0.25);
    expect(row[table.header.indexOf('Anger')]).toBeNull();
    expect(JSON.parse(row.at(-1) as string)).toEqual({ emotions: { Bliss: 0.75 }, facs: { AU9: 0.1 } });
  });

  it('adds sentiment and toxicity columns only when the first language prediction carries them', () => {
    const word = (more: Partial<PredictionOf<'language'>> = {}): PredictionOf<'language'> =>
      ({ text: 'hi', position: { begin: 0, end: 2 }, emotions: scores(EXPRESSIONS_53), ...more });
    const plain = new ModelTable('language', word());
    expect(plain.header).toEqual(['item_id', 'file', 'group_id', 'text', 'position_begin', 'position_end', 'time_begin', 'time_end', 'confidence', ...EXPRESSIONS_53, 'extra']);
    const row = plain.row(key, word({ sentiment: [{ name: '5', score: 1 }] }));
    expect(row.at(-1)).toBe('{"sentiment":{"5":1}}');
    expect(row.slice(6, 9)).toEqual([undefined, undefined, undefined]); // no time, no confidence: empty cells
  });
});
