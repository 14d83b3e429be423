/**
 * `face: 'face-api'` chosen by name (as `--backend face=face-api` does): the registry loads the
 * optional backend on demand, and a photo inside an archive reaches it with its bytes.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHumeEmulator } from '../../src/emulator/index.js';
import { writeZip } from './fixtures/media.js';
import { call, waitForStatus } from './helpers.js';

const SAMPLE = join(dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')), 'demo', 'sample1.jpg');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'backends-face-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

it('loads face-api by name and finds the three faces of a photo inside a zip; facemesh stays synthetic', async () => {
  const zip = join(dir, 'photos.zip');
  await writeZip(zip, { 'people/sample1.jpg': await readFile(SAMPLE) });
  const emulator = await startHumeEmulator({ timing: { queuedMs: 0, processingMs: 0 }, backends: { face: 'face-api' } });
  try {
    expect(emulator.backends().find((b) => b.model === 'face')).toMatchObject({ backend: 'face-api', real: true, labels: expect.arrayContaining(['happy']) });
    const form = new FormData();
    form.append('json', JSON.stringify({ models: { face: {}, facemesh: {} } }));
    form.append('file', new Blob([await readFile(zip)]), 'photos.zip');
    const id = (await call<{ job_id: string }>(emulator, '/v0/batch/jobs', { body: form })).body.job_id;
    expect((await waitForStatus(emulator, id, undefined, 30_000)).state.status).toBe('COMPLETED');
    const [source] = (await call<any[]>(emulator, `/v0/batch/jobs/${id}/predictions`)).body;
    expect(source.results.errors).toEqual([]);
    const [prediction] = source.results.predictions;
    expect(prediction.file).toBe('people/sample1.jpg');
    const faces = prediction.models.face.grouped_predictions[0].predictions;
    // The boxes face-api finds on this photo (test/emulator/face-api.test.ts records them), within
    // 3 px as wasm with and without SIMD may round apart: hash-derived ones never land here.
    const recorded = [{ x: 776, y: 445, w: 312, h: 255 }, { x: 1421, y: 215, w: 307, h: 283 }, { x: 335, y: 395, w: 306, h: 252 }];
    expect(faces).toHaveLength(recorded.length);
    faces.forEach((f: any, i: number) => {
      for (const k of ['x', 'y', 'w', 'h'] as const) expect(Math.abs(f.box[k] - recorded[i]![k])).toBeLessThanOrEqual(3);
    });
    expect(faces[0].emotions.map((e: any) => e.name)).toEqual(['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised']);
    expect(prediction.models.facemesh.grouped_predictions[0].predictions[0].emotions).toHaveLength(48);
  } finally {
    await emulator.close();
  }
}, 60_000);
