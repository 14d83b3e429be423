/**
 * The real `face` backend: face-api's tiny face detector and expression net on tfjs wasm, on
 * still images, offline. Each face gets the model's own seven expression scores, not Hume's 48
 * (docs/FACE-BACKEND.md says what this does and does not emulate).
 */
import { readFile } from 'node:fs/promises';
import type { FaceDetection, FaceExpressions } from '@vladmandic/face-api/dist/face-api.node-wasm.js';
import { z } from 'zod';
import { FaceConfig } from '../../hume/schemas.js';
import type { ModelOutput } from '../predictions.js';
import type { BackendInfo, BackendResult, BackendSource, ModelBackend } from './backend.js';
import { type FaceRuntime, loadFaceRuntime } from './face-runtime.js';
import { decodeImage } from './image-decode.js';
import { type Downscaled, downscale, MAX_MODEL_SIDE } from './image-resize.js';

/** face-api's expression names, in its order: the `emotions` of every prediction. */
export const FACE_API_LABELS = ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'] as const;

/** The tiny detector scores clear faces about 0.5–0.9, so Hume's default (0.99) would drop nearly all: its own default instead. */
export const DEFAULT_PROB_THRESHOLD = 0.5;
/** Hume's documented default, in pixels. */
export const DEFAULT_MIN_FACE_SIZE = 60;
/**
 * Faces kept per image, highest scores first: `prob_threshold: 0` lets the detector return
 * hundreds of boxes, and every kept one goes through the expression net.
 */
export const MAX_FACES = 100;

export const FaceApiBackendOptionsSchema = z
  .object({
    /** Side (px) of the square the detector sees the image at: larger finds smaller faces, slower. @default 416 */
    inputSize: z.number().int().min(128).max(1024).multipleOf(32).default(416),
  })
  .strict();
export type FaceApiBackendOptions = z.input<typeof FaceApiBackendOptionsSchema>;

/**
 * Loads the packages and weights (about a second), then predicts one image at a time: tfjs
 * wasm runs single-threaded here, so queued predictions lose nothing. Throws one line naming
 * what to install when a package is missing.
 */
export async function createFaceApiBackend(options: FaceApiBackendOptions = {}): Promise<ModelBackend> {
  const parsed = FaceApiBackendOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TypeError(`invalid face-api option ${issue?.path.join('.') || '(options)'}: ${issue?.message}`);
  }
  const { inputSize } = parsed.data;
  const runtime = await loadFaceRuntime();
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  const info: BackendInfo = {
    model: 'face',
    backend: 'face-api',
    real: true,
    labels: FACE_API_LABELS,
    honoured: ['prob_threshold', 'min_face_size', 'identify_faces'],
    ignored: ['fps_pred', 'facs', 'descriptions', 'save_faces'],
    note:
      `face-api tiny face detector (input ${inputSize} px) and expression net on tfjs wasm, still images only (JPEG, PNG); ` +
      `prob_threshold is the detector's score, default ${DEFAULT_PROB_THRESHOLD} (not Hume's 0.99); ` +
      `min_face_size default ${DEFAULT_MIN_FACE_SIZE} px; identify_faces numbers the faces of each image by score, it does not track identities; ` +
      `at most ${MAX_FACES} faces per image; images over ${MAX_MODEL_SIDE} px a side are shrunk for the model, boxes are in the original's pixels`,
  };

  return {
    info: () => info,
    async predict(source, config, signal) {
      signal.throwIfAborted();
      const run = queue.then(() => (closed ? { error: `${source.file}: the face-api backend is closed` } : predictImage(runtime, inputSize, source, config, signal)));
      queue = run.catch(() => undefined);
      return run;
    },
    async close() {
      if (closed) return;
      closed = true;
      await queue;
      runtime.detector.dispose();
      runtime.expressions.dispose();
    },
  };
}

async function predictImage(
  runtime: FaceRuntime,
  inputSize: number,
  source: BackendSource,
  config: Record<string, unknown>,
  signal: AbortSignal,
): Promise<BackendResult> {
  const { file } = source;
  signal.throwIfAborted();
  if (source.kind !== 'image') return { error: `${file}: the face-api backend reads still images (JPEG, PNG) only, not ${source.kind}` };
  if (source.path === undefined) return { error: `${file}: the image's bytes were not fetched, so face-api has nothing to read` };
  const options = FaceConfig.safeParse(config);
  if (!options.success) {
    const issue = options.error.issues[0];
    return { error: `${file}: invalid face option ${issue?.path.join('.') || '(face)'}: ${issue?.message}` };
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(source.path);
  } catch (err) {
    // The code, not the message: the message holds the server's own temporary path.
    return { error: `${file}: could not read the image (${(err as NodeJS.ErrnoException).code ?? 'unknown error'})` };
  }
  signal.throwIfAborted();
  const image = decodeImage(bytes, file, runtime.codecs);
  if ('error' in image) return image;
  try {
    const faces = await detectFaces(runtime, downscale(image), image, {
      inputSize,
      scoreThreshold: options.data.prob_threshold ?? DEFAULT_PROB_THRESHOLD,
      minFaceSize: options.data.min_face_size ?? DEFAULT_MIN_FACE_SIZE,
    });
    return { output: faceOutput(faces, options.data.identify_faces ?? false) };
  } catch (err) {
    return { error: `${file}: face-api failed: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}` };
  }
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}
interface ScoredFace {
  prob: number;
  /** In the original image's pixels. */
  box: Box;
  expressions: FaceExpressions;
}

/**
 * Detects on the downscaled image, drops boxes under the size floor (in original pixels), keeps
 * the best MAX_FACES, scores each kept box; frees every tensor it made.
 */
async function detectFaces(
  { faceapi, detector, expressions }: FaceRuntime,
  model: Downscaled,
  original: { width: number; height: number },
  { inputSize, scoreThreshold, minFaceSize }: { inputSize: number; scoreThreshold: number; minFaceSize: number },
): Promise<ScoredFace[]> {
  const { image } = model;
  const input = faceapi.tf.tensor3d(image.rgb, [image.height, image.width, 3], 'int32');
  try {
    // face-api reads a threshold of 0 as "unset" (0.5) and refuses 0 outright: the smallest
    // positive number is the threshold 0 asked for, as every score is a sigmoid above it.
    const threshold = Math.max(scoreThreshold, Number.MIN_VALUE);
    const found = await detector.locateFaces(input, new faceapi.TinyFaceDetectorOptions({ inputSize, scoreThreshold: threshold }));
    const kept = found
      .map((detection) => ({ detection, box: originalBox(detection, model, original) }))
      .filter(({ box }) => box.w > 0 && box.h > 0 && Math.min(box.w, box.h) >= minFaceSize)
      .sort((a, b) => b.detection.score - a.detection.score)
      .slice(0, MAX_FACES);
    if (kept.length === 0) return [];
    const crops = await faceapi.extractFaceTensors(input, kept.map((k) => k.detection));
    try {
      // One batch for all the faces: one pass of the net, not one per face.
      const scored = await expressions.predictExpressions(crops);
      const list = Array.isArray(scored) ? scored : [scored];
      if (list.length !== kept.length) throw new Error(`the expression net scored ${list.length} of ${kept.length} faces`);
      return kept.map(({ detection, box }, i) => ({ prob: detection.score, box, expressions: list[i] as FaceExpressions }));
    } finally {
      for (const crop of crops) crop.dispose();
    }
  } finally {
    input.dispose();
  }
}

/**
 * A detection's box scaled back to the original image, clipped to its borders, in whole pixels
 * (as face-api's own clipAtImageBorders, so an image that was not shrunk gets its exact boxes).
 */
function originalBox({ box }: FaceDetection, { scaleX, scaleY }: Downscaled, { width, height }: { width: number; height: number }): Box {
  const left = Math.max(0, box.x * scaleX);
  const top = Math.max(0, box.y * scaleY);
  const right = Math.min(width, box.right * scaleX);
  const bottom = Math.min(height, box.bottom * scaleY);
  return { x: Math.floor(left), y: Math.floor(top), w: Math.floor(right - left), h: Math.floor(bottom - top) };
}

/** Hume's face shape: one image is frame 0 at 0 s; one group per face when asked, else one `unknown` group. */
function faceOutput(faces: ScoredFace[], identify: boolean): ModelOutput {
  const predictions = faces.map(({ prob, box, expressions }) => ({
    frame: 0,
    time: 0,
    prob,
    box,
    emotions: FACE_API_LABELS.map((name) => ({ name, score: expressions[name] })),
    facs: null,
    descriptions: null,
  }));
  const grouped_predictions = identify
    ? predictions.map((p, i) => ({ id: `face_${i}`, predictions: [p] }))
    : predictions.length > 0 ? [{ id: 'unknown', predictions }] : [];
  return { metadata: null, grouped_predictions };
}
