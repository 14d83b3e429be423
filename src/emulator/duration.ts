/**
 * Media duration, for the 3-hour limit on audio and video (hume-batch-api.md §7.1). Only WAV
 * (RIFF/WAVE) is measured, from its header: data size over byte rate. Other formats are not
 * measured and are treated as within the limit.
 */
import { open } from 'node:fs/promises';

export const MAX_MEDIA_SECONDS = 3 * 60 * 60;
/** Enough of a file to find a WAV's `fmt ` and `data` chunk headers behind other chunks. */
export const HEAD_BYTES = 64 * 1024;

/** Seconds of a WAV given its first bytes and total size; undefined when it is not a WAV. */
export function wavSeconds(head: Buffer, totalBytes: number): number | undefined {
  if (head.length < 12 || head.toString('latin1', 0, 4) !== 'RIFF' || head.toString('latin1', 8, 12) !== 'WAVE') return undefined;
  let byteRate: number | undefined;
  for (let at = 12; at + 8 <= head.length;) {
    const id = head.toString('latin1', at, at + 4);
    const size = head.readUInt32LE(at + 4);
    if (id === 'fmt ' && at + 20 <= head.length) byteRate = head.readUInt32LE(at + 16);
    if (id === 'data') {
      if (!byteRate) return undefined;
      // Streamed WAVs leave the size 0 or 0xFFFFFFFF: then the data runs to the end of the file.
      const dataBytes = size === 0 || size === 0xffffffff ? totalBytes - (at + 8) : size;
      return dataBytes / byteRate;
    }
    at += 8 + size + (size % 2); // chunks are padded to even sizes
  }
  return undefined;
}

export async function readHead(path: string): Promise<Buffer> {
  const file = await open(path);
  try {
    const buffer = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await file.read(buffer, 0, HEAD_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

/** The per-file error of media over the limit, e.g. "talk.wav is 3h 20m long: …". */
export function tooLongMessage(file: string, seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return `${file} is ${h}h ${m}m long: audio and video files may be at most 3 hours`;
}
