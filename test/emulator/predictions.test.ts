/**
 * Predictions: the documented shapes and name sets, determinism per source, per-file and
 * per-source errors, real downloads of loopback URLs, and the artifacts zip.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeArtifactsZip } from '../../src/emulator/artifacts.js';
import { startHumeEmulator, type HumeEmulator } from '../../src/emulator/index.js';
import { writePredictions } from '../../src/emulator/prediction-writer.js';
import { echoRequest, parseBaseRequest } from '../../src/emulator/request.js';
import { HUME_LIMITS } from '../../src/hume/limits.js';
import { BURST_DESCRIPTIONS, EXPRESSIONS_48, EXPRESSIONS_53, TOXICITY } from '../../src/emulator/names.js';
import { unzip } from './fixtures/media.js';
import { call, localServer, submit, waitForStatus } from './helpers.js';

let emulator: HumeEmulator;
beforeAll(async () => {
  emulator = await startHumeEmulator({ timing: { queuedMs: 0, processingMs: [5, 20] } });
});
afterAll(() => emulator.close());

/** Submits, waits for COMPLETED, returns [job, predictions]. */
async function run(request: unknown, on = emulator): Promise<[any, any[]]> {
  const id = await submit(on, request);
  const job = await waitForStatus(on, id);
  const preds = await call(on, `/v0/batch/jobs/${id}/predictions`);
  return [job, preds.body];
}

const names = (scores: { name: string }[]): string[] => scores.map((s) => s.name);
const models = (preds: any[], i = 0) => preds[i].results.predictions[0].models;

describe('shapes and name sets', () => {
  it('text: 53 alphabetical emotions per word with character positions, sentiment 1-9 summing to 1, 6 toxicity names', async () => {
    const text = 'Alice met Bob in Paris. It was lovely!';
    const [job, preds] = await run({ text: [text], models: { language: { sentiment: {}, toxicity: {} }, ner: {} } });
    expect(job.state).toMatchObject({ status: 'COMPLETED', num_predictions: 1, num_errors: 0 });
    expect(preds[0].source).toEqual({ type: 'text' });
    const language = models(preds).language;
    expect(language.metadata).toBeNull();
    const words = language.grouped_predictions[0].predictions;
    expect(words.map((w: any) => w.text)).toEqual(text.split(' '));
    for (const w of words) {
      expect(text.slice(w.position.begin, w.position.end)).toBe(w.text);
      expect(names(w.emotions)).toEqual(EXPRESSIONS_53);
      expect(names(w.sentiment)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9']);
      expect(w.sentiment.reduce((a: number, s: any) => a + s.score, 0)).toBeCloseTo(1, 9);
      expect(names(w.toxicity)).toEqual([...TOXICITY]);
    }
    expect(EXPRESSIONS_53).toHaveLength(53);
    expect([...EXPRESSIONS_53].sort((a, b) => a.localeCompare(b, 'en'))).toEqual(EXPRESSIONS_53);

    const entities = models(preds).ner.grouped_predictions[0].predictions;
    expect(entities.map((e: any) => e.entity)).toEqual(['Alice', 'Bob', 'Paris', 'It']);
    for (const e of entities) {
      expect(text.slice(e.position.begin, e.position.end)).toBe(e.entity);
      expect(e).toMatchObject({ link_word: e.entity, uri: expect.stringContaining(e.entity), entity_confidence: expect.any(Number), support: expect.any(Number) });
      expect(e.emotions).toHaveLength(53);
    }
  });

  it('text granularity: sentence and utterance split sentences, conversational_turn is one passage', async () => {
    const text = 'First one. Second one!  Third?';
    const texts = async (granularity: string): Promise<string[]> => {
      const [, preds] = await run({ text: [text], models: { language: { granularity } } });
      return models(preds).language.grouped_predictions[0].predictions.map((p: any) => p.text);
    };
    expect(await texts('sentence')).toEqual(['First one.', 'Second one!', 'Third?']);
    expect(await texts('utterance')).toEqual(['First one.', 'Second one!', 'Third?']);
    expect(await texts('conversational_turn')).toEqual([text]);
  });

  it('media: 48 expressions for face, facemesh, prosody and burst; 67 burst descriptions; transcript metadata', async () => {
    const [job, preds] = await run({
      urls: ['https://example.test/interview.mp4'],
      models: { face: { facs: {}, descriptions: {} }, facemesh: {}, burst: {}, prosody: {}, language: {}, ner: {} },
      transcription: { language: 'de' },
    });
    expect(job.state.num_errors).toBe(0);
    expect(preds[0].source).toEqual({ type: 'url', url: 'https://example.test/interview.mp4' });
    expect(preds[0].results.predictions[0]).toMatchObject({ file: 'interview.mp4', file_type: 'video' });
    const m = models(preds);
    const face = m.face.grouped_predictions[0].predictions[0];
    expect(m.face.metadata).toBeNull();
    expect(face).toMatchObject({ frame: expect.any(Number), time: expect.any(Number), box: { x: expect.any(Number), y: expect.any(Number), w: expect.any(Number), h: expect.any(Number) } });
    expect(face.prob).toBeGreaterThanOrEqual(0.99);
    expect(names(face.emotions)).toEqual([...EXPRESSIONS_48]);
    expect(face.facs.length).toBeGreaterThan(0);
    expect(face.descriptions.length).toBeGreaterThan(0);
    expect(names(m.facemesh.grouped_predictions[0].predictions[0].emotions)).toEqual([...EXPRESSIONS_48]);
    const burst = m.burst.grouped_predictions[0].predictions[0];
    expect(names(burst.emotions)).toEqual([...EXPRESSIONS_48]);
    expect(names(burst.descriptions)).toEqual([...BURST_DESCRIPTIONS]);
    expect(BURST_DESCRIPTIONS).toHaveLength(67);
    const prosody = m.prosody.grouped_predictions[0].predictions[0];
    expect(prosody).toMatchObject({ text: expect.any(String), time: { begin: expect.any(Number), end: expect.any(Number) } });
    expect(names(prosody.emotions)).toEqual([...EXPRESSIONS_48]);
    expect(m.prosody.metadata).toEqual({ confidence: expect.any(Number), detected_language: 'de' });
    const word = m.language.grouped_predictions[0].predictions[0];
    expect(word).toMatchObject({ time: { begin: expect.any(Number), end: expect.any(Number) }, position: { begin: 0 } });
  });

  it('face facs/descriptions are null unless toggled; identify_faces groups by face', async () => {
    const [, preds] = await run({ urls: ['https://example.test/a.jpg'], models: { face: { identify_faces: true } } });
    const groups = models(preds).face.grouped_predictions;
    expect(groups.every((g: any) => /^face_\d+$/.test(g.id))).toBe(true);
    expect(groups[0].predictions[0]).toMatchObject({ frame: 0, time: 0, facs: null, descriptions: null });
  });

  it('prosody window replaces granularity with sliding windows', async () => {
    const [, preds] = await run({ urls: ['https://example.test/a.wav'], models: { prosody: { window: { length: 1, step: 0.5 } } } });
    const windows = models(preds).prosody.grouped_predictions[0].predictions;
    expect(windows.length).toBeGreaterThan(1);
    expect(windows[1].time.begin - windows[0].time.begin).toBe(0.5);
    expect(windows[0].time.end - windows[0].time.begin).toBe(1);
  });
});

describe('determinism', () => {
  it('gives the same source the same scores, across jobs and emulators, and different sources different ones', async () => {
    const request = { text: ['The same words every time.'], urls: ['https://example.test/clip.wav'] };
    const [, a] = await run(request);
    const [, b] = await run(request);
    const other = await startHumeEmulator({ seed: 99, timing: { queuedMs: 0, processingMs: 0 } });
    try {
      const [, c] = await run(request, other);
      expect(b).toEqual(a);
      expect(c).toEqual(a);
    } finally {
      await other.close();
    }
    const [, d] = await run({ text: ['Different words.'] });
    expect(models(d).language.grouped_predictions[0].predictions[0].emotions).not.toEqual(
      models(a, 1).language.grouped_predictions[0].predictions[0].emotions,
    );
  });
});

describe('errors', () => {
  it('reports a requested model that does not apply to the input as a per-file error; the job still completes', async () => {
    const [job, preds] = await run({ text: ['just text'], urls: ['https://example.test/photo.png'], models: { face: {} } });
    expect(job.state).toMatchObject({ status: 'COMPLETED', num_predictions: 1, num_errors: 1 });
    const [photo, text] = preds;
    expect(photo.results.predictions).toHaveLength(1);
    expect(text.results).toEqual({ predictions: [], errors: [{ message: expect.stringContaining('no requested model applies to text'), file: 'text' }] });
  });

  it('reports a transcript below the confidence threshold as a per-file error, keeping models that need no transcript', async () => {
    const [job, preds] = await run({ urls: ['https://example.test/noisy.wav'], models: { prosody: {}, burst: {} }, transcription: { confidence_threshold: 1 } });
    expect(job.state.num_errors).toBe(1);
    expect(preds[0].results.errors[0].message).toMatch(/^transcript confidence \(0\.\d+\) below threshold value \(1\)$/);
    expect(Object.keys(models(preds))).toEqual(['burst']);
    // Hume says so for a file whose models need no transcript at all, too.
    const [burstOnly, alone] = await run({ urls: ['https://example.test/noisy.wav'], models: { burst: {} }, transcription: { confidence_threshold: 1 } });
    expect(burstOnly.state.num_errors).toBe(1);
    expect(alone[0].results.errors[0].message).toMatch(/^transcript confidence/);
  });

  it('reports media it cannot classify as a per-file error', async () => {
    const [, preds] = await run({ urls: ['https://example.test/download'] });
    expect(preds[0].results.errors[0].message).toContain('unsupported media type');
  });
});

describe('loopback URLs are really downloaded', () => {
  const audio = Buffer.from('pretend this is a wav file');
  let media: Awaited<ReturnType<typeof localServer>>;
  beforeAll(async () => {
    media = await localServer((req, res) => {
      if (req.url === '/clip.wav') res.end(audio);
      else if (req.url === '/voice') res.writeHead(200, { 'content-type': 'audio/mpeg' }).end(audio);
      else res.writeHead(404).end('missing');
    });
  });
  afterAll(() => media.close());

  it('fetches the bytes: the content type decides the kind, and scores follow the content (same as uploading it)', async () => {
    const [, preds] = await run({ urls: [`${media.url}/clip.wav`, `${media.url}/voice`], models: { prosody: {} } });
    expect(media.received.map((r) => r.url).sort()).toEqual(['/clip.wav', '/voice']);
    expect(preds[1].results.predictions[0].file_type).toBe('audio');
    expect(models(preds, 0).prosody).toEqual(models(preds, 1).prosody);

    const form = new FormData();
    form.append('json', JSON.stringify({ models: { prosody: {} } }));
    form.append('file', new Blob([audio], { type: 'audio/wav' }), 'clip.wav');
    const res = await call(emulator, '/v0/batch/jobs', { body: form });
    await waitForStatus(emulator, res.body.job_id);
    const uploaded = (await call(emulator, `/v0/batch/jobs/${res.body.job_id}/predictions`)).body;
    expect(uploaded[0].source.md5sum).toBe(createHash('md5').update(audio).digest('hex'));
    expect(models(uploaded).prosody).toEqual(models(preds).prosody);
  });

  it('gives an unreachable URL (404, connection refused) a source-level error and no results', async () => {
    const closed = await localServer();
    const refusedUrl = `${closed.url}/gone.wav`;
    await closed.close();
    const [job, preds] = await run({ urls: [`${media.url}/missing.wav`, refusedUrl, `${media.url}/clip.wav`] });
    expect(preds[0]).toEqual({ source: { type: 'url', url: `${media.url}/missing.wav` }, error: expect.stringContaining('HTTP 404') });
    expect(preds[1].error).toContain('ECONNREFUSED');
    expect(preds[1].results).toBeUndefined();
    expect(preds[2].results.predictions).toHaveLength(1);
    expect(job.state).toMatchObject({ status: 'COMPLETED', num_predictions: 1, num_errors: 2 });
  });
});

describe('artifacts', () => {
  it('is a zip with one top-level folder holding one CSV per model, one row per prediction', async () => {
    const [job, preds] = await run({ text: ['Hello there, Maria.'], urls: ['https://example.test/pic.jpg'], models: { language: {}, face: {} } });
    const res = await fetch(`${emulator.url}/v0/batch/jobs/${job.job_id}/artifacts`, { headers: { 'x-hume-api-key': emulator.apiKey } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    const files = await unzip(Buffer.from(await res.arrayBuffer()));
    expect(Object.keys(files).sort()).toEqual([`${job.job_id}/face.csv`, `${job.job_id}/language.csv`]);
    const language = files[`${job.job_id}/language.csv`]!.trim().split('\n');
    const header = language[0]!.split(',');
    expect(header.slice(0, 4)).toEqual(['source', 'file', 'id', 'text']);
    expect(header).toContain('Admiration');
    expect(header).toContain('position.begin');
    expect(language).toHaveLength(1 + models(preds, 1).language.grouped_predictions[0].predictions.length);
    expect(language[2]).toContain('"there,"');
    const face = files[`${job.job_id}/face.csv`]!.trim().split('\n');
    expect(face[0]).toContain('box.x');
    expect(face[1]!.startsWith('https://example.test/pic.jpg,pic.jpg,unknown,')).toBe(true);
  });

  it('carries any text into its CSV cell: quotes, braces, backslashes, across the reader\'s 1 MiB chunks', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'artifacts-'));
    try {
      const text = 'He said "{no}" [or] \\ yes, é 😀\n'.repeat(80_000); // ~2.6 MB, one segment
      await writeFile(join(dir, 'text.txt'), text);
      const request = echoRequest(parseBaseRequest({ models: { language: { granularity: 'conversational_turn' } }, urls: ['https://example.test/a.jpg'] }), [], [], { ...HUME_LIMITS });
      await writePredictions([{ source: { type: 'text' }, file: 'text', kind: 'text', contentKey: 'text:hostile', path: join(dir, 'text.txt') }], request, join(dir, 'p.json'));
      await writeArtifactsZip('job-2', join(dir, 'p.json'), join(dir, 'a.zip'));
      const csv = (await unzip(await readFile(join(dir, 'a.zip'))))['job-2/language.csv']!;
      expect(csv.split('\n')[0]!.startsWith('source,file,id,text,position.begin,position.end,Admiration')).toBe(true);
      expect(csv.includes(`text,text,unknown,"${text.replace(/"/g, '""')}",0,${text.length},`)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
