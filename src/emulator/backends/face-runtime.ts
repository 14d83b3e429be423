/**
 * face-api on tfjs's wasm backend, loaded fully offline: the packages are optional (imported
 * only here, only when the face-api backend is chosen), the wasm binaries and the weights are
 * read from the installed packages on disk, never from a CDN or a hub.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FaceExpressionNet, TinyFaceDetector } from '@vladmandic/face-api/dist/face-api.node-wasm.js';
import { z } from 'zod';
import type { ImageCodecs } from './image-decode.js';

/** The optional packages, pinned: the versions this backend was measured with. */
export const FACE_API_PACKAGES = {
  '@vladmandic/face-api': '1.7.15',
  '@tensorflow/tfjs': '4.22.0',
  '@tensorflow/tfjs-backend-wasm': '4.22.0',
  'jpeg-js': '0.4.4',
  pngjs: '7.0.0',
} as const;

type FaceApi = typeof import('@vladmandic/face-api/dist/face-api.node-wasm.js');
/** face-api's own view of tfjs: its types inline a copy of tfjs's, so tensors are made through it. */
type Tf = FaceApi['tf'];
type WeightsManifest = Parameters<ReturnType<Tf['io']['weightsLoaderFactory']>>[0];

/** A tfjs weights manifest: groups of shard files and the tensors packed in them. */
const WeightsManifestSchema = z.array(
  z.object({
    paths: z.array(z.string()).min(1),
    weights: z.array(z.looseObject({ name: z.string(), shape: z.array(z.number().int().min(0)), dtype: z.string() })),
  }),
);

/** What the face backend runs on: face-api (on the one tfjs instance set to wasm) and its own two nets. */
export interface FaceRuntime {
  faceapi: FaceApi;
  codecs: ImageCodecs;
  detector: TinyFaceDetector;
  expressions: FaceExpressionNet;
}

const require = createRequire(import.meta.url);

/**
 * Throws one line naming the packages to install when any is missing, as resolved from `from`
 * (this module; a test gives a folder without them).
 */
export function checkFaceApiInstalled(from: string | URL = import.meta.url): void {
  const resolve = createRequire(from).resolve;
  const missing = Object.entries(FACE_API_PACKAGES).filter(([name]) => {
    try {
      resolve(`${name}/package.json`);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    const install = missing.map(([name, version]) => `${name}@${version}`).join(' ');
    throw new Error(`the face-api backend needs packages that are not installed: npm install ${install}`);
  }
}

/** The installed folder of `file` (a file of a package), as a path with a trailing slash. */
const folderOf = (file: string): string => `${dirname(require.resolve(file))}/`;

/**
 * Loads the packages, puts tfjs on wasm and loads the tiny face detector and the expression net
 * (which scores a detected box as is: it needs no landmarks).
 */
export async function loadFaceRuntime(): Promise<FaceRuntime> {
  checkFaceApiInstalled();
  // All five are CommonJS, some marked __esModule, which loaders' import() interop treats each
  // their own way; require() gives module.exports everywhere, the very objects face-api's own
  // require() sees, so the backend set below is the one face-api runs on.
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
  const tf = require('@tensorflow/tfjs') as typeof import('@tensorflow/tfjs');
  const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
  const jpeg = require('jpeg-js') as ImageCodecs['jpeg'];
  const png = require('pngjs') as ImageCodecs['png'];
  if ((faceapi.tf.ENV as unknown) !== tf.ENV) throw new Error('face-api runs on another copy of @tensorflow/tfjs than the one installed beside it');
  wasm.setWasmPaths(folderOf('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs could not start its wasm backend');
  await tf.ready();

  const modelDir = join(folderOf('@vladmandic/face-api/package.json'), 'model');
  // Nets of our own, not face-api's shared `nets`: closing one backend must not unload another's.
  const detector = new faceapi.TinyFaceDetector();
  const expressions = new faceapi.FaceExpressionNet();
  try {
    await loadWeights(faceapi.tf, detector, join(modelDir, 'tiny_face_detector_model-weights_manifest.json'));
    await loadWeights(faceapi.tf, expressions, join(modelDir, 'face_expression_model-weights_manifest.json'));
  } catch (err) {
    detector.dispose();
    expressions.dispose();
    throw err;
  }
  return { faceapi, codecs: { jpeg, png }, detector, expressions };
}

/** Reads a tfjs weights manifest and its .bin shards from disk (no fetch of file:// URLs). */
async function loadWeights(tf: Tf, net: TinyFaceDetector | FaceExpressionNet, manifestPath: string): Promise<void> {
  const parsed = WeightsManifestSchema.safeParse(JSON.parse(await readFile(manifestPath, 'utf8')));
  if (!parsed.success) throw new Error(`${manifestPath} is not a tfjs weights manifest: ${parsed.error.issues[0]?.message}`);
  const readShards = (paths: string[]) =>
    Promise.all(paths.map(async (p) => {
      const b = await readFile(p);
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    }));
  // Checked above; tfjs's type also spells out each dtype and quantization, which it checks itself.
  const weights = await tf.io.weightsLoaderFactory(readShards)(parsed.data as WeightsManifest, `${dirname(manifestPath)}/`);
  net.loadFromWeightMap(weights);
}
