/** Large input files for tests and benches, written in 1 MB blocks so none is ever held whole. */
import { open } from 'node:fs/promises';

/** Writes `bytes` bytes of `fill` (distinct files get distinct content, so distinct hashes). */
export async function writeFilled(path: string, bytes: number, fill: number): Promise<string> {
  const handle = await open(path, 'w');
  try {
    const block = Buffer.alloc(1_000_000, fill);
    for (let at = 0; at < bytes; at += block.length) await handle.write(block, 0, Math.min(block.length, bytes - at));
  } finally {
    await handle.close();
  }
  return path;
}
