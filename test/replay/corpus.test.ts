/**
 * The replay corpus is append-only: every history ever recorded stays, byte for byte, so a change
 * that breaks executions started under older code cannot pass by re-recording them. A new
 * history is added with its line in corpus.sha256; removing or re-recording one needs a line in
 * CONTRIBUTING.md's "Replay corpus changes" naming the file and saying why. The note excuses only a
 * removal: a history still here always matches its listed hash, so re-recording one changes that
 * line too, in plain sight in the diff.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dir = fileURLToPath(new URL('./histories/', import.meta.url));
const listed = readFileSync(fileURLToPath(new URL('./corpus.sha256', import.meta.url)), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => line.split(/\s+/) as [string, string]);
const notes = readFileSync(fileURLToPath(new URL('../../CONTRIBUTING.md', import.meta.url)), 'utf8').split('## Replay corpus changes')[1] ?? '';
const noted = (name: string) => notes.split('\n').some((line) => line.startsWith('- ') && line.includes(name));

describe('the replay corpus', () => {
  it('keeps every recorded history unless CONTRIBUTING.md notes why, and each unaltered', () => {
    const present = new Set(readdirSync(dir));
    for (const [sha256, name] of listed) {
      if (!present.has(name)) {
        expect(noted(name), `${name} was removed without a line in CONTRIBUTING.md`).toBe(true);
        continue;
      }
      expect(createHash('sha256').update(readFileSync(`${dir}${name}`)).digest('hex'), `${name} was altered`).toBe(sha256);
    }
  });

  it('lists every history it holds', () => {
    const names = new Set(listed.map(([, name]) => name));
    expect(readdirSync(dir).filter((name) => name.endsWith('.json') && !names.has(name))).toEqual([]);
  });
});
