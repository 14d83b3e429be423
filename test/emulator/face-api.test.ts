/**
 * The real face backend (face-api tiny face detector + expression net on tfjs wasm), on a
 * photo the package ships: three people, 1920×1280. The recorded faces, boxes and expressions
 * are the model's own; hash-derived scores would miss every one of them.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BackendResult, BackendSource, ModelBackend } from '../../src/emulator/backends/backend.js';
import { createFaceApiBackend, FACE_API_LABELS, MAX_FACES } from '../../src/emulator/backends/face-api.js';
import { jpegOrientation, type Orientation, orient } from '../../src/emulator/backends/exif.js';
import { checkFaceApiInstalled } from '../../src/emulator/backends/face-runtime.js';
import { startHumeEmulator } from '../../src/emulator/index.js';
import { call, waitForStatus } from './helpers.js';

const require = createRequire(import.meta.url);
type FaceApi = typeof import('@vladmandic/face-api/dist/face-api.node-wasm.js');
/** The very module the backend loads (one require cache): its nets' prototypes can be watched. */
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
const SAMPLE = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo', 'sample1.jpg');
const WIDTH = 1920;
const HEIGHT = 1280;

/** Measured once with the pinned packages (inputSize 416), in detector-score order. */
const RECORDED = [
  { prob: 0.7812, box: { x: 776, y: 445, w: 312, h: 255 }, dominant: 'happy' },
  { prob: 0.779, box: { x: 1421, y: 215, w: 307, h: 283 }, dominant: 'happy' },
  { prob: 0.7211, box: { x: 335, y: 395, w: 306, h: 252 }, dominant: 'happy' },
];

interface Face {
  frame: number;
  time: number;
  prob: number;
  box: { x: number; y: number; w: number; h: number };
  emotions: { name: string; score: number }[];
  facs: null;
  descriptions: null;
}

let backend: ModelBackend;
let dir: string;
const signal = new AbortController().signal;
const image = (path: string, file = 'sample1.jpg'): BackendSource => ({ file, kind: 'image', path });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'face-api-test-'));
  backend = await createFaceApiBackend();
}, 60_000);
afterEach(() => {
  vi.restoreAllMocks();
});
afterAll(async () => {
  await backend?.close?.();
  await rm(dir, { recursive: true, force: true });
});

interface FaceOutput {
  metadata: null;
  grouped_predictions: { id: string; predictions: Face[] }[];
}
function output(result: BackendResult): FaceOutput {
  if ('error' in result) throw new Error(`expected predictions, got: ${result.error}`);
  return result.output as unknown as FaceOutput;
}
const facesIn = (out: FaceOutput): Face[] => out.grouped_predictions.flatMap((g) => g.predictions);
const facesOf = (result: BackendResult): Face[] => facesIn(output(result));
const dominant = (face: Face): string => face.emotions.reduce((a, b) => (b.score > a.score ? b : a)).name;

describe('face-api backend on a real photo', () => {
  it('says what it is: real, seven labels of its own, the options it honours and ignores', () => {
    expect(backend.info()).toMatchObject({
      model: 'face',
      backend: 'face-api',
      real: true,
      labels: ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'],
      honoured: ['prob_threshold', 'min_face_size', 'identify_faces'],
      ignored: ['fps_pred', 'facs', 'descriptions', 'save_faces'],
    });
  });

  it('finds the three faces at their recorded boxes, each with seven expressions summing to 1, in one unknown group', async () => {
    const out = output(await backend.predict(image(SAMPLE), {}, signal));
    expect(out.metadata).toBeNull();
    expect(out.grouped_predictions.map((g) => g.id)).toEqual(['unknown']);
    const faces = facesIn(out);
    expect(faces).toHaveLength(RECORDED.length);
    faces.forEach((face, i) => {
      const want = RECORDED[i]!;
      expect(face).toMatchObject({ frame: 0, time: 0, facs: null, descriptions: null });
      expect(face.prob).toBeCloseTo(want.prob, 2);
      for (const k of ['x', 'y', 'w', 'h'] as const) expect(Math.abs(face.box[k] - want.box[k])).toBeLessThanOrEqual(3);
      expect(face.box.x).toBeGreaterThanOrEqual(0);
      expect(face.box.y).toBeGreaterThanOrEqual(0);
      expect(face.box.x + face.box.w).toBeLessThanOrEqual(WIDTH);
      expect(face.box.y + face.box.h).toBeLessThanOrEqual(HEIGHT);
      expect(face.emotions.map((e) => e.name)).toEqual([...FACE_API_LABELS]);
      expect(face.emotions.reduce((sum, e) => sum + e.score, 0)).toBeCloseTo(1, 3);
      expect(dominant(face)).toBe(want.dominant);
    });
    // The largest face (the man on the right) is plainly happy; the one in the middle is mixed.
    const largest = faces.reduce((a, b) => (b.box.w * b.box.h > a.box.w * a.box.h ? b : a));
    expect(largest.box.x).toBeCloseTo(1421, -1);
    expect(largest.emotions.find((e) => e.name === 'happy')!.score).toBeGreaterThan(0.98);
    expect(faces[0]!.emotions.find((e) => e.name === 'happy')!.score).toBeLessThan(0.5);
  });

  it('identify_faces: one group per face, face_0, face_1, face_2 in score order (per image, no identity tracking)', async () => {
    const out = output(await backend.predict(image(SAMPLE), { identify_faces: true }, signal));
    expect(out.grouped_predictions.map((g) => [g.id, g.predictions.length])).toEqual([['face_0', 1], ['face_1', 1], ['face_2', 1]]);
    expect(out.grouped_predictions.map((g) => g.predictions[0]!.box.x)).toEqual(RECORDED.map((r) => expect.closeTo(r.box.x, -1)));
  });

  it('prob_threshold is the detector score: 0.75 keeps the two faces above it, 0.999 none (Hume\'s 0.99 would find nothing here)', async () => {
    const some = facesOf(await backend.predict(image(SAMPLE), { prob_threshold: 0.75 }, signal));
    expect(some.map((f) => f.box.x)).toEqual([expect.closeTo(776, -1), expect.closeTo(1421, -1)]);
    expect(output(await backend.predict(image(SAMPLE), { prob_threshold: 0.999 }, signal)).grouped_predictions).toEqual([]);
  });

  it('min_face_size drops faces whose smaller side is below it, in pixels', async () => {
    const big = facesOf(await backend.predict(image(SAMPLE), { min_face_size: 270 }, signal));
    expect(big).toHaveLength(1);
    expect(Math.min(big[0]!.box.w, big[0]!.box.h)).toBeGreaterThanOrEqual(270);
    expect(facesOf(await backend.predict(image(SAMPLE), { min_face_size: 1000 }, signal))).toEqual([]);
  });

  it('decodes a PNG of the same pixels to the same predictions, whatever the name; concurrent predictions run one after the other', async () => {
    const decoded = jpeg.decode(await readFile(SAMPLE), { useTArray: true });
    const pngPath = join(dir, 'sample1.png');
    await writeFile(pngPath, PNG.sync.write(Object.assign(new PNG({ width: decoded.width, height: decoded.height }), { data: Buffer.from(decoded.data) })));
    // Each prediction starts at the detector and ends at the expression net. tfjs wasm rarely
    // yields to the event loop mid-prediction, so the detector is made to (as an async backend
    // would): unqueued, the second's detector then starts while the first's waits.
    const steps: string[] = [];
    const locate = faceapi.TinyFaceDetector.prototype.locateFaces;
    const score = faceapi.FaceExpressionNet.prototype.predictExpressions;
    vi.spyOn(faceapi.TinyFaceDetector.prototype, 'locateFaces').mockImplementation(async function (this: unknown, ...args) {
      steps.push('detect');
      await delay(50);
      return locate.apply(this, args);
    });
    vi.spyOn(faceapi.FaceExpressionNet.prototype, 'predictExpressions').mockImplementation(async function (this: unknown, ...args) {
      const scored = await score.apply(this, args);
      steps.push('scored');
      return scored;
    });
    const [fromJpeg, fromPng] = await Promise.all([
      backend.predict(image(SAMPLE), {}, signal),
      backend.predict(image(pngPath, 'photo.jpg'), {}, signal),
    ]);
    expect(steps).toEqual(['detect', 'scored', 'detect', 'scored']);
    expect(facesOf(fromPng)).toHaveLength(3);
    expect(fromPng).toEqual(fromJpeg);
  });

  it('a photo over 2048 px a side is shrunk for the model: the same faces, boxes in its own pixels, memory bounded', async () => {
    const small = jpeg.decode(await readFile(SAMPLE), { useTArray: true });
    const k = 2; // 3840×2560: nearest-neighbour, so every face is the same face twice the size
    const big = { width: small.width * k, height: small.height * k, data: Buffer.alloc(small.data.length * k * k) };
    for (let y = 0; y < big.height; y++) {
      const from = ((y / k) | 0) * small.width;
      for (let x = 0; x < big.width; x++) {
        const p = (from + ((x / k) | 0)) * 4;
        const q = (y * big.width + x) * 4;
        for (let c = 0; c < 4; c++) big.data[q + c] = small.data[p + c]!;
      }
    }
    const path = join(dir, 'big.jpg');
    await writeFile(path, jpeg.encode(big, 90).data);
    const rss = process.memoryUsage().rss;
    const faces = facesOf(await backend.predict(image(path, 'big.jpg'), {}, signal));
    const grown = process.memoryUsage().rss - rss;
    expect(faces).toHaveLength(RECORDED.length);
    faces.forEach((face, i) => {
      const want = RECORDED[i]!;
      // Within 6 px of the recorded box, times the scale: the model sees a resampled image.
      for (const key of ['x', 'y', 'w', 'h'] as const) expect(Math.abs(face.box[key] - want.box[key] * k)).toBeLessThanOrEqual(6 * k);
      expect(face.box.x + face.box.w).toBeLessThanOrEqual(big.width);
      expect(face.box.y + face.box.h).toBeLessThanOrEqual(big.height);
    });
    // The man on the right, plainly happy at any size (the mixed middle face may tip either way).
    expect(faces[1]!.emotions.find((e) => e.name === 'happy')!.score).toBeGreaterThan(0.9);
    // Fed whole, this image grew the process by gigabytes (the wasm heap never gives memory back).
    expect(grown).toBeLessThan(800e6);
  }, 60_000);

  it('a phone photo stored sideways with EXIF Orientation 6 is turned upright: the same faces, boxes as displayed', async () => {
    const shown = jpeg.decode(await readFile(SAMPLE), { useTArray: true });
    // Stored turned 90° counter-clockwise, as a phone held sideways writes it; the tag says "turn clockwise to show".
    const stored = { width: shown.height, height: shown.width, data: Buffer.alloc(shown.data.length) };
    for (let sy = 0; sy < stored.height; sy++) {
      for (let sx = 0; sx < stored.width; sx++) {
        const p = (sx * shown.width + (shown.width - 1 - sy)) * 4;
        const q = (sy * stored.width + sx) * 4;
        for (let c = 0; c < 4; c++) stored.data[q + c] = shown.data[p + c]!;
      }
    }
    const encoded = jpeg.encode(stored, 90).data;
    const bytes = Buffer.concat([encoded.subarray(0, 2), exifApp1(6), encoded.subarray(2)]);
    expect(jpegOrientation(bytes)).toBe(6);
    const path = join(dir, 'phone.jpg');
    await writeFile(path, bytes);
    const faces = facesOf(await backend.predict(image(path, 'phone.jpg'), {}, signal));
    expect(faces).toHaveLength(RECORDED.length);
    // Left to right: re-encoding moves the two top scores (0.78 each) past one another.
    const byX = (a: { box: { x: number } }, b: { box: { x: number } }) => a.box.x - b.box.x;
    const want = [...RECORDED].sort(byX);
    [...faces].sort(byX).forEach((face, i) => {
      for (const k of ['x', 'y', 'w', 'h'] as const) expect(Math.abs(face.box[k] - want[i]!.box[k])).toBeLessThanOrEqual(6);
    });
  }, 30_000);

  it(`keeps at most ${MAX_FACES} faces, highest scores first, however low prob_threshold goes`, async () => {
    const faces = facesOf(await backend.predict(image(SAMPLE), { prob_threshold: 0, min_face_size: 0 }, signal));
    expect(faces.length).toBe(MAX_FACES);
    const probs = faces.map((f) => f.prob);
    expect(probs).toEqual([...probs].sort((a, b) => b - a));
    expect(faces[0]!.prob).toBeCloseTo(RECORDED[0]!.prob, 2);
  });

  it('frees the tensors of each prediction', async () => {
    const tf = require('@tensorflow/tfjs') as typeof import('@tensorflow/tfjs');
    const before = tf.memory().numTensors;
    await backend.predict(image(SAMPLE), {}, signal);
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('face-api backend behind the Hume-compatible server', () => {
  it('an uploaded photo gets the real faces; a video in the same job gets a per-file error; /v0/info says real', async () => {
    const emulator = await startHumeEmulator({ timing: { queuedMs: 0, processingMs: 0 }, backends: { face: backend } });
    try {
      const form = new FormData();
      form.append('json', JSON.stringify({ models: { face: { identify_faces: true } } }));
      form.append('file', new Blob([await readFile(SAMPLE)], { type: 'image/jpeg' }), 'people.jpg');
      form.append('file', new Blob([Buffer.from('not really a video')], { type: 'video/mp4' }), 'clip.mp4');
      const submitted = await call<{ job_id: string }>(emulator, '/v0/batch/jobs', { body: form });
      expect(submitted.status).toBe(200);
      const job = await waitForStatus(emulator, submitted.body.job_id, ['COMPLETED', 'FAILED'], 60_000);
      expect(job.state).toMatchObject({ status: 'COMPLETED', num_errors: 1 });
      const preds = await call(emulator, `/v0/batch/jobs/${submitted.body.job_id}/predictions`);
      expect(preds.body[1].results.errors).toEqual([
        { file: 'clip.mp4', message: 'clip.mp4: the face-api backend reads still images (JPEG, PNG) only, not video' },
      ]);
      const face = preds.body[0].results.predictions[0].models.face as FaceOutput;
      expect(face.grouped_predictions.map((g) => g.id)).toEqual(['face_0', 'face_1', 'face_2']);
      expect(facesIn(face).map((f) => f.box.x)).toEqual(RECORDED.map((r) => expect.closeTo(r.box.x, -1)));
      const info = await call<{ backends: unknown[] }>(emulator, '/v0/info');
      expect(info.body.backends).toContainEqual(backend.info());
    } finally {
      await emulator.close();
    }
    // The emulator does not close a backend it was handed: its weights are still loaded.
    expect(facesOf(await backend.predict(image(SAMPLE), {}, signal))).toHaveLength(3);
  });
});

/** A JPEG APP1 segment holding only an EXIF Orientation tag (big-endian TIFF). */
function exifApp1(orientation: Orientation): Buffer {
  const tiff = [0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0];
  const body = [...Buffer.from('Exif\0\0', 'latin1'), ...tiff];
  return Buffer.from([0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body]);
}

describe('EXIF orientation', () => {
  // Stored 3×2, pixel n has red n:   0 1 2 / 3 4 5
  const stored = { width: 3, height: 2, rgb: new Uint8Array([0, 1, 2, 3, 4, 5].flatMap((n) => [n, 0, 0])) };
  const shown: Record<Orientation, number[][]> = {
    1: [[0, 1, 2], [3, 4, 5]],
    2: [[2, 1, 0], [5, 4, 3]],
    3: [[5, 4, 3], [2, 1, 0]],
    4: [[3, 4, 5], [0, 1, 2]],
    5: [[0, 3], [1, 4], [2, 5]],
    6: [[3, 0], [4, 1], [5, 2]],
    7: [[5, 2], [4, 1], [3, 0]],
    8: [[2, 5], [1, 4], [0, 3]],
  };
  it.each(Object.entries(shown))('orientation %s turns and mirrors the stored pixels as EXIF defines', (tag, rows) => {
    const out = orient(stored, Number(tag) as Orientation);
    expect({ width: out.width, height: out.height }).toEqual({ width: rows[0]!.length, height: rows.length });
    expect([...out.rgb].filter((_, i) => i % 3 === 0)).toEqual(rows.flat());
  });

  it('reads the tag from APP1; a JPEG without one, or with a cut one, is as stored', async () => {
    const plain = await readFile(SAMPLE);
    const tagged = Buffer.concat([plain.subarray(0, 2), exifApp1(8), plain.subarray(2)]);
    expect(jpegOrientation(tagged)).toBe(8);
    expect(jpegOrientation(plain)).toBe(1);
    expect(jpegOrientation(tagged.subarray(0, 20))).toBe(1);
  });
});

describe('face-api backend refuses what it cannot read, one line each', () => {
  it('a file that is not a JPEG or PNG, whatever its name', async () => {
    const path = join(dir, 'face.jpg');
    await writeFile(path, 'GIF89a not really');
    expect(await backend.predict(image(path, 'face.jpg'), {}, signal)).toEqual({
      error: 'face.jpg: not a JPEG or PNG image (its first bytes are neither); this backend decodes those two only',
    });
  });

  it('a file that cannot be read: its name and the error code, never the server\'s path', async () => {
    expect(await backend.predict(image(join(dir, 'predictions.json.0000.tmp.entry-0'), 'gone.jpg'), {}, signal)).toEqual({
      error: 'gone.jpg: could not read the image (ENOENT)',
    });
  });

  it('a truncated JPEG', async () => {
    const path = join(dir, 'cut.jpg');
    await writeFile(path, (await readFile(SAMPLE)).subarray(0, 2000));
    const result = await backend.predict(image(path, 'cut.jpg'), {}, signal);
    expect(result).toEqual({ error: expect.stringMatching(/^cut\.jpg: could not decode the JPEG image: \S/) });
  });

  it('a video, and an image whose bytes were not fetched', async () => {
    expect(await backend.predict({ file: 'clip.mp4', kind: 'video', path: SAMPLE }, {}, signal)).toEqual({
      error: 'clip.mp4: the face-api backend reads still images (JPEG, PNG) only, not video',
    });
    expect(await backend.predict({ file: 'remote.jpg', kind: 'image' }, {}, signal)).toEqual({
      error: "remote.jpg: the image's bytes were not fetched, so face-api has nothing to read",
    });
  });

  it('an aborted prediction throws the abort', async () => {
    const aborted = AbortSignal.abort(new Error('job cancelled'));
    await expect(backend.predict(image(SAMPLE), {}, aborted)).rejects.toThrow('job cancelled');
  });

  it('missing packages: one line naming exactly what to install', () => {
    expect(() => checkFaceApiInstalled(join(dir, 'no-packages-here.js'))).toThrow(
      new Error(
        'the face-api backend needs packages that are not installed: npm install ' +
          '@vladmandic/face-api@1.7.15 @tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0 jpeg-js@0.4.4 pngjs@7.0.0',
      ),
    );
    expect(() => checkFaceApiInstalled()).not.toThrow();
  });

  it('a bad backend option, before loading anything', async () => {
    await expect(createFaceApiBackend({ inputSize: 100 })).rejects.toThrow(/^invalid face-api option inputSize: /);
  });
});
