/**
 * The header is fixed by the first prediction and the run's meta columns: key columns first, then
 * position, scores, `other_scores` (scores without a column, never lost) and `meta.<key>` last.
 */
import { describe, expect, it } from 'vitest';
import type { ModelName } from '../../src/hume/schemas.js';
import { EXPRESSIONS_48, EXPRESSIONS_53 } from '../../src/emulator/names.js';
import { KEY_COLUMNS, ModelTable, type PredictionOf, type RowKey } from '../../src/results/columns.js';
import { flattenMetadata, MAX_META_COLUMNS, MetaColumns } from '../../src/results/metadata.js';
import { item } from './helpers.js';

const scores = (names: readonly string[], score = 0.5) => names.map((name) => ({ name, score }));
const key: RowKey = { itemId: 'i1', line: 7, jobId: 'job-1', source: '/data/a.zip', innerPath: 'x/a.jpg', groupId: 'unknown' };
const KEYS = ['i1', 7, 'job-1', '/data/a.zip', 'x/a.jpg', 'unknown'];

/** A model's table with the header its first prediction gives. */
const tableOf = <M extends ModelName>(model: M, first: PredictionOf<M>, meta?: string[]) => new ModelTable(model, ModelTable.specOf(model, first), meta);

function face(extra: Partial<PredictionOf<'face'>> = {}): PredictionOf<'face'> {
  return { frame: 0, time: 0, prob: 0.99, box: { x: 1, y: 2, w: 3, h: 4 }, emotions: scores(EXPRESSIONS_48), ...extra };
}

describe('ModelTable', () => {
  it('takes face facs and descriptions columns (names never published) from the first prediction', () => {
    const table = tableOf('face', face({ facs: scores(['AU1', 'AU2']), descriptions: scores(['Smile']) }));
    expect(table.header.slice(13)).toEqual([...EXPRESSIONS_48, 'facs_AU1', 'facs_AU2', 'desc_Smile', 'other_scores']);
  });

  it("takes another model's own expression names when none of its first scores is one of Hume's", () => {
    const seven = ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'];
    const table = tableOf('face', face({ emotions: scores(seven, 0.1) }));
    expect(table.header.slice(13)).toEqual([...seven, 'other_scores']);
    expect(table.row(key, face({ emotions: [{ name: 'happy', score: 0.9 }] })).slice(13, 15)).toEqual([null, 0.9]);
    // One Hume name among them: Hume's columns, the rest kept in other_scores.
    expect(tableOf('face', face({ emotions: [...scores(seven), { name: 'Joy', score: 1 }] })).header.slice(13, 61)).toEqual([...EXPRESSIONS_48]);
  });

  it('starts every model with the same key columns, in the documented order', () => {
    expect(KEY_COLUMNS).toEqual(['item_id', 'line', 'job_id', 'source', 'source_inner_path', 'group_id']);
    expect(tableOf('face', face()).header.slice(0, 6)).toEqual([...KEY_COLUMNS]);
  });

  it('puts unknown names and families absent from the header in `other_scores`, and leaves missing scores empty', () => {
    const table = tableOf('face', face());
    const row = table.row(key, face({
      emotions: [{ name: 'Joy', score: 0.25 }, { name: 'Bliss', score: 0.75 }],
      facs: [{ name: 'AU9', score: 0.1 }],
    }));
    expect(row).toHaveLength(table.header.length);
    expect(row.slice(0, 13)).toEqual([...KEYS, 0, 0, 1, 2, 3, 4, 0.99]);
    expect(row[table.header.indexOf('Joy')]).toBe(0.25);
    expect(row[table.header.indexOf('Anger')]).toBeNull();
    expect(JSON.parse(row[table.header.indexOf('other_scores')] as string)).toEqual({ emotions: { Bliss: 0.75 }, facs: { AU9: 0.1 } });
  });

  it('adds sentiment and toxicity columns only when the first language prediction carries them', () => {
    const word = (more: Partial<PredictionOf<'language'>> = {}): PredictionOf<'language'> =>
      ({ text: 'hi', position: { begin: 0, end: 2 }, emotions: scores(EXPRESSIONS_53), ...more });
    const plain = tableOf('language', word());
    expect(plain.header).toEqual([...KEY_COLUMNS, 'text', 'position_begin', 'position_end', 'time_begin', 'time_end', 'confidence', ...EXPRESSIONS_53, 'other_scores']);
    const row = plain.row(key, word({ sentiment: [{ name: '5', score: 1 }] }));
    expect(row.at(-1)).toBe('{"sentiment":{"5":1}}');
    expect(row.slice(9, 12)).toEqual([undefined, undefined, undefined]); // no time, no confidence: empty cells
  });

  it('ends with the meta columns it was given, filled from the row key, empty where the item has none', () => {
    const table = tableOf('face', face(), ['meta.site', 'meta.speaker.age']);
    expect(table.header.slice(-3)).toEqual(['other_scores', 'meta.site', 'meta.speaker.age']);
    const row = table.row({ ...key, meta: flattenMetadata({ speaker: { age: 41 } }) }, face());
    expect(row.slice(-3)).toEqual(['', null, 41]);
    expect(table.row(key, face()).slice(-2)).toEqual([null, null]);
  });
});

describe('flattenMetadata', () => {
  it('prefixes keys with meta., joins nested keys with dots, keeps scalars and writes arrays as JSON', () => {
    const cells = flattenMetadata({ site: 'north', n: 3, ok: false, none: null, speaker: { name: 'Ann', langs: ['en', 'fr'], empty: {} } });
    expect(Object.fromEntries(cells)).toEqual({
      'meta.site': 'north', 'meta.n': 3, 'meta.ok': 'false', 'meta.none': null, 'meta.speaker.name': 'Ann', 'meta.speaker.langs': '["en","fr"]',
    });
    expect(flattenMetadata(undefined).size).toBe(0);
  });
});

describe('MetaColumns', () => {
  it('collects the key names of every item, sorted', () => {
    const meta = new MetaColumns();
    meta.addItem(item(1, 'text', 'a', 'a', { speaker: { name: 'Ann' }, site: 'north' }));
    meta.addItem(item(2, 'text', 'b'));
    meta.addItem(item(3, 'text', 'c', 'c', { age: 3, site: 'south' }));
    expect(meta.names()).toEqual(['meta.age', 'meta.site', 'meta.speaker.name']);
    expect(meta.truncated).toBe(false);
  });

  it(`keeps at most ${MAX_META_COLUMNS} names, and says when items had more`, () => {
    const meta = new MetaColumns();
    meta.addItem(item(1, 'text', 'a', 'a', Object.fromEntries(Array.from({ length: MAX_META_COLUMNS + 1 }, (_, i) => [`k${i}`, i]))));
    expect(meta.names()).toHaveLength(MAX_META_COLUMNS);
    expect(meta.truncated).toBe(true);
  });

  it("takes a CSV manifest's extra columns from its header, with no pass over the items", () => {
    const meta = MetaColumns.fromCsvHeader({ path: '/m.csv', format: 'csv', sha256: '', csvHeader: 'id,url,speaker,file,site' });
    expect(meta?.names()).toEqual(['meta.site', 'meta.speaker']);
    expect(MetaColumns.fromCsvHeader({ path: '/m.jsonl', format: 'jsonl', sha256: '' })).toBeUndefined();
  });
});
