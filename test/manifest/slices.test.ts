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
/** 1.5 MiB of records that are not items: more than a slice may hold besides its items. */
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

  it('says it is full past 1 MiB or 4,096 records besides its items, so the planner closes its batch', () => {
    const bytes = new SliceTracker();
    bytes.add(Buffer.from('a\n'), 'item', 1);
    bytes.add(Buffer.alloc(1024 * 1024 - 1, 'x'), 'other', 2);
    expect(bytes.full).toBe(false);
    bytes.add(Buffer.from('\n'), 'other', 3);
    expect(bytes.full).toBe(true);
    const records = new SliceTracker();
    records.add(Buffer.from('a\n'), 'item', 1);
    for (let line = 2; line <= 4_096; line++) records.add(Buffer.from('\n'), 'duplicate', line);
    expect(records.full).toBe(false);
    records.add(Buffer.from('\n'), 'duplicate', 4_097);
    expect(records.full).toBe(true);
    // Records before any item belong to no slice.
    const none = new SliceTracker();
    for (let line = 1; line <= 5_000; line++) none.add(Buffer.from('\n'), 'other', line);
    expect(none.full).toBe(false);
  });

  it('lists the duplicates inside the slice, not those after its last item', () => {
    const slices = new SliceTracker();
    const records = [record('item', 'a'), record('duplicate', 'd2'), record('item', 'b'), ...longRun('duplicate')];
    records.forEach((r, i) => slices.add(r.bytes, r.role, i + 1));
    expect(slices.take()).toEqual({ sliceSha256: expected(records), duplicateLines: [2] });
  });

  it('lists a run of 300,000 duplicates between two items', () => {
    const slices = new SliceTracker();
    slices.add(Buffer.from('a\n'), 'item', 1);
    for (let line = 2; line <= 300_001; line++) slices.add(Buffer.from('d\n'), 'duplicate', line);
    slices.add(Buffer.from('b\n'), 'item', 300_002);
    const { duplicateLines } = slices.take();
    expect([duplicateLines?.length, duplicateLines?.[0], duplicateLines?.at(-1)]).toEqual([300_000, 2, 300_001]);
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
