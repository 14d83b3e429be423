/** Text manifests of any size, written as a stream so a million lines never sit in memory. */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

/** Writes `count` JSONL lines `{"id":"t-<n>","text":…}`; `textOf(n)` gives the n-th text (1-based). */
export async function writeTextManifest(path: string, count: number, textOf: (n: number) => string): Promise<string> {
  const out = createWriteStream(path);
  for (let n = 1; n <= count; n++) {
    if (!out.write(`${JSON.stringify({ id: `t-${n}`, text: textOf(n) })}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return path;
}

/** One short sentence per item: one `sentence`-granularity prediction each. */
export const reviewText = (n: number): string => `Review ${n}: the delivery was wonderful and the staff were kind.`;
