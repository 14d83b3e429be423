import { describe, expect, it } from 'vitest';
import { IdRegistry } from '../../src/manifest/ids.js';
import type { ItemRecord } from '../../src/schemas/batch.js';

const item = (line: number, id = `line-${line}`): ItemRecord => ({ line, id, kind: 'url', value: 'https://a.test', bytes: 0 });

describe('IdRegistry', () => {
  it('finds duplicates among explicit ids and generated line-<n> ids, in either order', () => {
    const ids = new IdRegistry();
    expect(ids.claim(item(1, 'a'), true)).toBeUndefined();
    expect(ids.claim(item(2), false)).toBeUndefined();
    expect(ids.claim(item(3, 'line-9'), true)).toBeUndefined();
    expect(ids.claim(item(4, 'a'), true)?.rule).toBe('duplicate id (first used on line 1)');
    expect(ids.claim(item(5, 'line-2'), true)?.rule).toBe('duplicate id (first used on line 2)');
    expect(ids.claim(item(9), false)?.rule).toBe('duplicate id (first used on line 3)');
    expect(ids.claim(item(5000), false)).toBeUndefined();
    expect(ids.claim(item(5001, 'line-5000'), true)).toBeDefined();
  });

  it('does not confuse huge line-<n> ids with small lines', () => {
    const ids = new IdRegistry();
    ids.claim(item(1), false);
    expect(ids.claim(item(2, 'line-4294967297'), true)).toBeUndefined();
    expect(ids.claim(item(3, 'line-01'), true)).toBeUndefined();
  });
});
