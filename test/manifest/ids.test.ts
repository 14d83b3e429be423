import { describe, expect, it } from 'vitest';
import { IdRegistry, fingerprintOf } from '../../src/manifest/ids.js';
import type { ItemRecord } from '../../src/schemas/batch.js';

/**
 * Claims in manifest order against an in-memory manifest: line n declares `id` (or none, for a
 * generated `line-<n>`) and its record starts at byte n. The first pass suspected every id, or
 * only those `suspected`.
 */
function claimer(suspected?: string[]) {
  const declared = new Map<number, string>();
  const suspects = suspected && new Set(suspected.map((id) => fingerprintOf(id).join()));
  const ids = new IdRegistry({ readId: async (_from, line) => declared.get(line), suspects: { has: (fp) => !suspects || suspects.has(fp.join()) } });
  return (line: number, id?: string) => {
    if (id !== undefined) declared.set(line, id);
    const item: ItemRecord = { line, id: id ?? `line-${line}`, kind: 'url', value: 'https://a.test', bytes: 0 };
    return ids.claim(item, id !== undefined, line);
  };
}

describe('IdRegistry', () => {
  it('finds duplicates among explicit ids and generated line-<n> ids, in either order', async () => {
    const claim = claimer();
    expect(await claim(1, 'a')).toBeUndefined();
    expect(await claim(2)).toBeUndefined();
    expect(await claim(3, 'line-9')).toBeUndefined();
    expect((await claim(4, 'a'))?.rule).toBe('duplicate id (first used on line 1)');
    expect((await claim(5, 'line-2'))?.rule).toBe('duplicate id (first used on line 2)');
    expect((await claim(9))?.rule).toBe('duplicate id (first used on line 3)');
    expect(await claim(5000)).toBeUndefined();
    expect(await claim(5001, 'line-5000')).toBeDefined();
  });

  it('does not confuse huge line-<n> ids with small lines', async () => {
    const claim = claimer();
    await claim(1);
    expect(await claim(2, 'line-4294967297')).toBeUndefined();
    expect(await claim(3, 'line-01')).toBeUndefined();
  });

  it('tracks only the ids the first pass suspected: any other is unique, and nothing of it is kept', async () => {
    const claim = claimer(['b']);
    expect(await claim(1, 'a')).toBeUndefined();
    // Unsuspected, 'a' was not recorded: a first pass that saw it twice would have suspected it.
    expect(await claim(2, 'a')).toBeUndefined();
    expect(await claim(3, 'b')).toBeUndefined();
    expect((await claim(4, 'b'))?.rule).toBe('duplicate id (first used on line 3)');
  });
});
