import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type SliceRole, SliceTracker } from '../../src/manifest/slices.js';

/** What a batch's hash must be: its records from its first item through its last item, nothing after. */
function expected(records: { bytes: Buffer; role: SliceRole }[]): string {
  const first = records.findIndex((r) => r.role === 'item');
  const last = records.findLastIndex((r) => r.role === 'item');
  return createHash('sha256')
    .update(Buffer.concat(records.slice(first, last + 1).map((r) => r.bytes)))
    .digest('hex');
}

const record = (role: SliceRole, text: string) => ({ role, bytes: Buffer.from(`${text}\n`) });
/** 1.5 MiB of records that are not items: past what is held back before the hash takes them in. */
const longRun = (role: SliceRole) => Array.from({ length: 1_500 }, (_, i) => record(role, `${role} ${i} ${'x'.repeat(1_024)}`));

describe('a batch slice hash', () => {
  it.each([
    ['short runs between items, and after the last', [record('other', 'before'), record('item', 'a'), record('other', 'blank'), record('duplicate', 'dup'), record('item', 'b'), record('other', 'after')]],
    ['a long run between two items', [record('item', 'a'), ...longRun('other'), record('item', 'b')]],
    ['a long run after the last item', [record('item', 'a'), record('item', 'b'), ...longRun('other')]],
    ['a long run, an item, and another long run', [record('item', 'a'), ...longRun('duplicate'), record('item', 'b'), ...longRun('other')]],
    ['many tiny records after the last item (blank CSV rows)', [record('item', 'a'), ...Array.from({ length: 10_000 }, () => record('other', ',,'))]],
    ['many tiny records between two items', [record('item', 'a'), ...Array.from({ length: 10_000 }, () => record('other', '')), record('item', 'b')]],
  ])('covers its first item through its last: %s', (_name, records) => {
    const slices = new SliceTracker();
    records.forEach((r, i) => slices.add(r.bytes, r.role, i + 1));
    expect(slices.take().sliceSha256).toBe(expected(records));
  });

  it('lists the duplicates inside the slice, not those after its last item', () => {
    const slices = new SliceTracker();
    const records = [record('item', 'a'), record('duplicate', 'd2'), record('item', 'b'), ...longRun('duplicate')];
    records.forEach((r, i) => slices.add(r.bytes, r.role, i + 1));
    expect(slices.take()).toEqual({ sliceSha256: expected(records), duplicateLines: [2] });
  });

  it('starts the next slice afresh at its first item', () => {
    const slices = new SliceTracker();
    const first = [record('item', 'a'), ...longRun('other')];
    const second = [record('other', 'between'), record('item', 'b'), record('item', 'c')];
    first.forEach((r, i) => slices.add(r.bytes, r.role, i + 1));
    expect(slices.take().sliceSha256).toBe(expected(first));
    second.forEach((r, i) => slices.add(r.bytes, r.role, first.length + i + 1));
    expect(slices.take()).toEqual({ sliceSha256: expected(second) });
  });
});
