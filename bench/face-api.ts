/**
 * The real face backend: how long face-api takes to load (packages, wasm, weights) and to
 * predict one 640×480 JPEG with the tiny detector, decoding included (median of 20 after a
 * warm-up), and the decoding's own share. The image is a photo face-api ships (three people), cropped to 4:3 and scaled down.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import jpeg from 'jpeg-js';
import png from 'pngjs';
import { createFaceApiBackend } from '../src/emulator/backends/face-api.js';
import { decodeImage } from '../src/emulator/backends/image-decode.js';
import { downscale } from '../src/emulator/backends/image-resize.js';
import type { Benchmark } from './context.js';
import { rowsOf } from './table.js';

const RUNS = 20;
const WIDTH = 640;
const HEIGHT = 480;

/** A WIDTH×HEIGHT JPEG from the top-left 4:3 area of `source`, scaled down as the backend scales large photos. */
async function writeTestImage(source: string, target: string): Promise<void> {
  const src = jpeg.decode(await readFile(source), { useTArray: true });
  const scale = Math.floor(Math.min(src.width / WIDTH, src.height / HEIGHT));
  const [w, h] = [WIDTH * scale, HEIGHT * scale];
  const rgb = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    const from = (Math.floor(i / w) * src.width + (i % w)) * 4;
    rgb.set(src.data.subarray(from, from + 3), i * 3);
  }
  const { image } = downscale({ width: w, height: h, rgb }, WIDTH);
  const rgba = new Uint8Array(WIDTH * HEIGHT * 4).fill(255);
  for (let i = 0; i < WIDTH * HEIGHT; i++) rgba.set(image.rgb.subarray(i * 3, i * 3 + 3), i * 4);
  await writeFile(target, jpeg.encode({ width: WIDTH, height: HEIGHT, data: rgba }, 90).data);
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

export const faceApi: Benchmark = async (ctx) => {
  const row = rowsOf('7 face-api', `tiny detector, ${WIDTH}×${HEIGHT} JPEG`);
  const demo = join(dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')), 'demo');
  const path = join(ctx.workDir, 'faces-640x480.jpg');
  await writeTestImage(join(demo, 'sample4.jpg'), path);

  ctx.log('face-api: loading the packages, wasm and weights');
  let started = performance.now();
  const backend = await createFaceApiBackend();
  const loadMs = performance.now() - started;
  try {
    const signal = new AbortController().signal;
    const source = { file: 'faces-640x480.jpg', kind: 'image' as const, path };
    const warm = await backend.predict(source, {}, signal);
    if ('error' in warm) throw new Error(warm.error);
    const faces = warm.output.grouped_predictions.reduce((n, g) => n + g.predictions.length, 0);
    ctx.log(`face-api: ${RUNS} predictions of one image (${faces} faces)`);
    const times: number[] = [];
    const cpuTimes: number[] = [];
    const decodeTimes: number[] = [];
    const bytes = await readFile(path);
    for (let i = 0; i < RUNS; i++) {
      started = performance.now();
      const cpu = process.cpuUsage();
      await backend.predict(source, {}, signal);
      times.push(performance.now() - started);
      const used = process.cpuUsage(cpu);
      cpuTimes.push((used.user + used.system) / 1000);
      started = performance.now();
      decodeImage(bytes, source.file, { jpeg, png });
      decodeTimes.push(performance.now() - started);
    }
    return [
      row('model load (packages, wasm, weights)', `${(loadMs / 1000).toFixed(2)} s`),
      row(`time per image, median of ${RUNS}`, `${(median(times) / 1000).toFixed(3)} s`),
      // On a busy machine the wall time waits for a core; the CPU time is what one image costs.
      row(`CPU time per image, median of ${RUNS}`, `${(median(cpuTimes) / 1000).toFixed(3)} s`),
      row('of which JPEG decoding (jpeg-js), median', `${(median(decodeTimes) / 1000).toFixed(3)} s`),
      row('slowest of the runs', `${(Math.max(...times) / 1000).toFixed(3)} s`),
      row('faces found', String(faces)),
    ];
  } finally {
    await backend.close?.();
  }
};
