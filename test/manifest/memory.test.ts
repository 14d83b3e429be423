import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { plan, tempDir } from './helpers.js';

const LINES = 200_000;
const MB = 1024 * 1024;

async function writeBigManifest(path: string): Promise<void> {
  const out = createWriteStream(path);
  for (let i = 0; i < LINES; i++) {
    const line = i % 2 ? { id: `item-${i}`, url: `https://media.example.com/clips/${i}.mp4`, metadata: { n: i } } : { text: `sentence number ${i} `.repeat(4) };
    if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

describe('planning a large manifest', () => {
  it(`plans ${LINES} lines in bounded memory`, async () => {
    const dir = await tempDir();
    const path = join(dir, 'big.jsonl');
    await writeBigManifest(path);
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    try {
      const result = await plan({ runDir: join(dir, 'run'), manifest: { path } });
      expect(result).toMatchObject({ items: LINES, validItems: LINES, invalidCount: 0, batches: 1_000 }); // 100 texts + 100 URLs per job
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    console.info(`planning ${LINES} lines grew rss by ${((peak - before) / MB).toFixed(1)} MB`);
    expect((peak - before) / MB).toBeLessThan(150);
  });
});
