/** Hume's sources back to manifest items: by URL, by upload filename, by text rank, whatever the order. */
import { describe, expect, it } from 'vitest';
import type { Predictions } from '../../src/hume/schemas.js';
import { sourceInnerPath, uploadFilename } from '../../src/results/mapping.js';
import { failedUrl, fileResult, item, mapSources, textResult, urlResult } from './helpers.js';

describe('uploadFilename', () => {
  it('prefixes the basename with the manifest line, so equal names in one batch stay apart', () => {
    expect(uploadFilename(item(7, 'file', '/data/a/clip.mp4'))).toBe('7-clip.mp4');
    expect(uploadFilename(item(8, 'file', '/data/b/clip.mp4'))).toBe('8-clip.mp4');
  });
});

describe('sourceInnerPath', () => {
  it("is Hume's name of a file inside a local file, whatever the archive is called; empty for the file's own predictions", () => {
    const zip = item(7, 'file', '/data/clips.zip');
    expect(sourceInnerPath(zip, 'clips/a.jpg')).toBe('clips/a.jpg');
    expect(sourceInnerPath(item(8, 'file', '/data/bundle'), 'a.jpg')).toBe('a.jpg');
    expect(sourceInnerPath(item(9, 'file', '/data/face.jpg'), '9-face.jpg')).toBe('');
  });

  it('is the file inside a URL whose path ends like an archive; empty for any other URL and for texts', () => {
    expect(sourceInnerPath(item(1, 'url', 'https://x.test/pack.tar.gz?sig=1'), 'inner/c.jpg')).toBe('inner/c.jpg');
    expect(sourceInnerPath(item(2, 'url', 'https://x.test/set.ZIP'), 'd.wav')).toBe('d.wav');
    expect(sourceInnerPath(item(3, 'url', 'https://x.test/p.jpg'), 'p.jpg')).toBe('');
    expect(sourceInnerPath(item(4, 'url', 'https://x.test/zip?f=a.jpg'), 'a.jpg')).toBe('');
    expect(sourceInnerPath(item(5, 'text', 'hello'), 'text')).toBe('');
  });
});

describe('mapping sources to items', () => {
  it('matches URLs by value, duplicates consumed one by one in order', () => {
    const items = [item(1, 'url', 'https://x.test/a.jpg'), item(2, 'url', 'https://x.test/b.jpg'), item(3, 'url', 'https://x.test/a.jpg')];
    const predictions: Predictions = [urlResult('https://x.test/b.jpg'), urlResult('https://x.test/a.jpg'), urlResult('https://x.test/a.jpg')];
    expect(mapSources(predictions, items)).toEqual([
      { line: 1, id: 'line-1', sourceIndex: 1, status: 'completed' },
      { line: 2, id: 'line-2', sourceIndex: 0, status: 'completed' },
      { line: 3, id: 'line-3', sourceIndex: 2, status: 'completed' },
    ]);
  });

  it('matches files by upload filename, not by basename alone', () => {
    const items = [item(4, 'file', '/a/clip.jpg', 'first'), item(9, 'file', '/b/clip.jpg', 'second')];
    const predictions = [fileResult('9-clip.jpg'), fileResult('4-clip.jpg')];
    expect(mapSources(predictions, items).map((i) => [i.id, i.sourceIndex])).toEqual([['first', 1], ['second', 0]]);
  });

  it('matches texts by rank: the k-th text source is the k-th text item', () => {
    const items = [item(1, 'text', 'one'), item(2, 'text', 'two'), item(3, 'text', 'three')];
    const predictions = [textResult('one'), textResult('two'), textResult('three')];
    expect(mapSources(predictions, items).map((i) => i.sourceIndex)).toEqual([0, 1, 2]);
  });

  it('fails an item whose whole source failed, with the source error', () => {
    const items = [item(1, 'url', 'https://x.test/gone.mp4')];
    expect(mapSources([failedUrl('https://x.test/gone.mp4', 'download failed: 404')], items)).toEqual([
      { line: 1, id: 'line-1', sourceIndex: 0, status: 'failed', error: 'download failed: 404' },
    ]);
  });

  it('keeps per-file errors out of status unless the source produced no prediction', () => {
    const items = [item(1, 'url', 'https://x.test/a.zip'), item(2, 'url', 'https://x.test/b.jpg')];
    const withErrors = urlResult('https://x.test/b.jpg');
    withErrors.results?.errors.push({ message: 'one frame unreadable', file: 'b.jpg' });
    // The emulator does not expand archives: a per-file error and no predictions.
    const mapped = mapSources([urlResult('https://x.test/a.zip'), withErrors], items);
    expect(mapped[0]).toMatchObject({ status: 'failed', error: expect.stringContaining('archives are not expanded') });
    expect(mapped[1]).toEqual({ line: 2, id: 'line-2', sourceIndex: 1, status: 'completed' });
  });

  it('fails an item Hume returned no source for', () => {
    const items = [item(1, 'text', 'hello'), item(2, 'text', 'lost')];
    expect(mapSources([textResult('hello')], items)[1]).toEqual({ line: 2, id: 'line-2', status: 'failed', error: 'no result from Hume' });
  });

  it('maps mixed kinds returned in shuffled order', () => {
    const items = [
      item(1, 'text', 'first text'),
      item(2, 'url', 'https://x.test/a.mp4'),
      item(3, 'file', '/m/c.wav'),
      item(4, 'text', 'second text'),
      item(5, 'url', 'https://x.test/a.mp4'),
    ];
    const predictions = [
      fileResult('3-c.wav'),
      urlResult('https://x.test/a.mp4'),
      textResult('first text'),
      urlResult('https://x.test/a.mp4'),
      textResult('second text'),
    ];
    expect(mapSources(predictions, items).map((i) => [i.line, i.sourceIndex, i.status])).toEqual([
      [1, 2, 'completed'],
      [2, 1, 'completed'],
      [3, 0, 'completed'],
      [4, 4, 'completed'],
      [5, 3, 'completed'],
    ]);
  });
});
