/** Builds mixed manifests on disk (media served from loopback by `serveFolder`), for batch tests and the bench. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export { serveFolder } from '../../src/demo/serve-folder.js';

export interface MixedManifest {
  path: string;
  /** Manifest lines (1-based) that are valid items. */
  validLines: number[];
  items: number;
}

/**
 * `count` items cycling text, URL and local file (small fake media files), with ids; `invalidAt`
 * lines hold an item that breaks a rule (an empty text).
 */
export async function writeMixedManifest(
  dir: string,
  count: number,
  mediaUrl: string,
  invalidAt: number[] = [],
): Promise<MixedManifest> {
  const media = join(dir, 'media');
  await mkdir(media, { recursive: true });
  const lines: string[] = [];
  const validLines: number[] = [];
  for (let i = 1; i <= count; i++) {
    if (invalidAt.includes(i)) {
      lines.push(JSON.stringify({ id: `item-${i}`, text: '' }));
      continue;
    }
    validLines.push(i);
    const kind = i % 3;
    if (kind === 0) lines.push(JSON.stringify({ id: `item-${i}`, text: `Sample sentence number ${i}. It is rather nice.` }));
    else {
      const name = `clip-${i}.${i % 2 ? 'wav' : 'jpg'}`;
      await writeFile(join(media, name), `fake media ${i}`);
      lines.push(
        JSON.stringify(kind === 1 ? { id: `item-${i}`, url: `${mediaUrl}/${name}` } : { id: `item-${i}`, file: `media/${name}` }),
      );
    }
  }
  const path = join(dir, 'manifest.jsonl');
  await writeFile(path, `${lines.join('\n')}\n`);
  return { path, validLines, items: count };
}
