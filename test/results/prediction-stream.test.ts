/** predictions.json read as a stream: sources, files, innermost predictions and per-file errors, in Hume's order. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { streamPredictions, type PredictionVisitor } from '../../src/results/prediction-stream.js';
import { createStorage } from '../../src/store/storage.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prediction-stream-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Every event the reader sends, as one line each. */
async function events(json: unknown): Promise<string[]> {
  const path = join(dir, `${Math.random()}.json`);
  await writeFile(path, typeof json === 'string' ? json : JSON.stringify(json));
  const seen: string[] = [];
  const visitor: PredictionVisitor = {
    source: (index, source) => void seen.push(`source ${index} ${JSON.stringify(source)}`),
    file: (name) => void seen.push(`file ${name}`),
    prediction: (model, file, group, p) => void seen.push(`${model} ${file} ${group} ${JSON.stringify(p)}`),
    fileError: (e) => void seen.push(`error ${e.file}: ${e.message}`),
    sourceEnd: (end) => void seen.push(`end ${JSON.stringify(end)}`),
  };
  await streamPredictions(createStorage().file(path), visitor);
  return seen;
}

const group = (id: string, predictions: unknown[]) => ({ metadata: null, grouped_predictions: [{ id, predictions }] });

it('hands over each innermost prediction with its model, file and group, and each per-file error, source by source', async () => {
  const json = [
    {
      source: { type: 'url', url: 'https://x.test/faces.zip' },
      results: {
        predictions: [
          { file: 'faces/1.jpg', file_type: 'image', models: { face: group('f0', [{ frame: 0 }, { frame: 1 }]), future_model: group('x', [{}]) } },
          { file: 'faces/2.jpg', models: { facemesh: group('unknown', [{ emotions: [] }]) } },
        ],
        errors: [{ file: 'faces/3.jpg', message: 'no face' }],
      },
    },
    { source: { type: 'url', url: 'https://x.test/gone.mp4' }, results: null, error: 'download failed' },
    { source: { type: 'text' }, results: { predictions: [], errors: [] } },
  ];
  expect(await events(json)).toEqual([
    'source 0 {"type":"url","url":"https://x.test/faces.zip"}',
    'file faces/1.jpg',
    'face faces/1.jpg f0 {"frame":0}',
    'face faces/1.jpg f0 {"frame":1}',
    'file faces/2.jpg',
    'facemesh faces/2.jpg unknown {"emotions":[]}',
    'error faces/3.jpg: no face',
    'end {"index":0,"hasResults":true,"files":2,"errors":1,"firstError":"no face"}',
    'source 1 {"type":"url","url":"https://x.test/gone.mp4"}',
    'end {"index":1,"hasResults":false,"files":0,"errors":0,"error":"download failed"}',
    'source 2 {"type":"text"}',
    'end {"index":2,"hasResults":true,"files":0,"errors":0}',
  ]);
});

it('refuses a file whose keys are not in the order Hume writes them, naming the source', async () => {
  await expect(events([{ results: { predictions: [], errors: [] }, source: { type: 'text' } }])).rejects.toThrow(/source 0: "source" must come before "results"/);
  const late = [{ source: { type: 'text' }, results: { predictions: [{ models: { language: group('u', [{}]) }, file: 'text' }], errors: [] } }];
  await expect(events(late)).rejects.toThrow(/source 0: "file" must come before "models"/);
});

it('refuses what is not one complete JSON array', async () => {
  await expect(events({ not: 'an array' })).rejects.toThrow(/not one JSON array/);
  await expect(events('[{"source":{"type":"text"}}')).rejects.toThrow();
});
