/**
 * Archives as Hume expands them (hume-batch-api.md §4, §7.1): `.zip`, `.tar.gz`, `.tar.bz2`,
 * `.tar.xz` (and plain `.tar`) give ONE source with one prediction per media file inside, named
 * by its path inside; unusable, escaping and corrupt entries become per-file errors; media over
 * the documented limits (3 hours, 1 GB by URL) become per-file errors too.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeArtifactsZip } from '../../src/emulator/artifacts.js';
import { MAX_URL_BYTES, mediaKind } from '../../src/emulator/media.js';
import { writePredictions } from '../../src/emulator/prediction-writer.js';
import type { ResolvedSource } from '../../src/emulator/predictions.js';
import { echoRequest, parseBaseRequest } from '../../src/emulator/request.js';
import { HUME_LIMITS } from '../../src/hume/limits.js';
import { md5, unzip, wav, writeTar, writeTarWithNames, writeTree, writeZip, writeZipWithNames } from './fixtures/media.js';

/** The echoed request of a job asking for `models` (its sources are given to the writer directly). */
const request = (models: object = { face: {}, prosody: {}, language: {} }) =>
  echoRequest(parseBaseRequest({ models, urls: ['https://example.test/a.jpg'] }), [], [], { ...HUME_LIMITS });

/** Two images in a folder, one deeper, a recording, a text and a file nobody can read. */
const TREE = {
  'faces/100.jpg': 'jpeg bytes of face 100',
  'faces/101.png': 'png bytes of face 101',
  'faces/nested/102.jpg': 'jpeg bytes of face 102',
  'audio/talk.wav': wav(2),
  'notes/hello.txt': 'Hello from Maria. Inside the archive!',
  'notes/blob.xyz': 'what is this',
};
const MEDIA = ['audio/talk.wav', 'faces/100.jpg', 'faces/101.png', 'faces/nested/102.jpg', 'notes/hello.txt'];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'archives-'));
  await writeTree(join(dir, 'tree'), TREE);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** An uploaded file as the server resolves it. */
async function upload(name: string, contentType: string | null = null): Promise<ResolvedSource> {
  const path = join(dir, name);
  const bytes = await readFile(path);
  return {
    source: { type: 'file', filename: name, content_type: contentType, md5sum: md5(bytes) },
    file: name, kind: mediaKind(name, contentType), contentKey: `md5:${md5(bytes)}`, path, bytes: bytes.length, contentType,
  };
}

let outputs = 0;
async function predict(sources: ResolvedSource[], req = request()) {
  const dest = join(dir, `predictions-${outputs++}.json`);
  const counts = await writePredictions(sources, req, dest);
  return { counts, json: JSON.parse(await readFile(dest, 'utf8')) as any[] };
}

const files = (result: any): string[] => result.results.predictions.map((p: any) => p.file).sort();

describe('every archive type gives one source with one prediction per media file inside', () => {
  const formats = [
    ['faces.zip', async (p: string) => writeZip(p, TREE)],
    ['faces.tar.gz', async (p: string) => writeTar(p, join(dir, 'tree'), '-czf')],
    ['faces.tgz', async (p: string) => writeTar(p, join(dir, 'tree'), '-czf')],
    ['faces.tar.bz2', async (p: string) => writeTar(p, join(dir, 'tree'), '-cjf')],
    ['faces.tar.xz', async (p: string) => writeTar(p, join(dir, 'tree'), '-cJf')],
    ['faces.tar', async (p: string) => writeTar(p, join(dir, 'tree'), '-cf')],
  ] as const;
  for (const [name, build] of formats) {
    it(name, async () => {
      await build(join(dir, name));
      const { counts, json } = await predict([await upload(name)]);
      expect(json).toHaveLength(1);
      expect(json[0].source).toMatchObject({ type: 'file', filename: name });
      expect(files(json[0])).toEqual(MEDIA);
      const byFile = Object.fromEntries(json[0].results.predictions.map((p: any) => [p.file, p]));
      expect(byFile['faces/100.jpg']).toMatchObject({ file_type: 'image', models: { face: expect.any(Object) } });
      expect(Object.keys(byFile['audio/talk.wav'].models)).toContain('prosody');
      expect(byFile['notes/hello.txt'].models.language.grouped_predictions[0].predictions.map((w: any) => w.text))
        .toEqual(['Hello', 'from', 'Maria.', 'Inside', 'the', 'archive!']);
      // The unknown file; and face on the text, prosody on the images do not count: models that do not apply are just absent.
      expect(json[0].results.errors).toEqual([{ message: expect.stringContaining('unsupported media type'), file: 'notes/blob.xyz' }]);
      expect(counts).toMatchObject({ numPredictions: MEDIA.length, numErrors: 1 });
    });
  }

  it('finds an archive by its content type, then by its magic bytes, when the name says nothing', async () => {
    await writeZip(join(dir, 'upload'), TREE);
    await writeTar(join(dir, 'upload.bin'), join(dir, 'tree'), '-cJf');
    const { json } = await predict([await upload('upload', 'application/zip'), await upload('upload.bin')]);
    expect(files(json[0])).toEqual(MEDIA);
    expect(files(json[1])).toEqual(MEDIA);
  });

  it('gives artifacts one CSV row per prediction, naming the archive and the file inside', async () => {
    await writeTar(join(dir, 'rows.tar.bz2'), join(dir, 'tree'), '-cjf');
    const dest = join(dir, 'rows.json');
    await writePredictions([await upload('rows.tar.bz2')], request({ face: {}, language: {} }), dest);
    await writeArtifactsZip('job-1', dest, join(dir, 'rows.zip'));
    const csv = await unzip(await readFile(join(dir, 'rows.zip')));
    expect(Object.keys(csv).sort()).toEqual(['job-1/face.csv', 'job-1/language.csv']);
    const faceRows = csv['job-1/face.csv']!.trim().split('\n').slice(1).map((line) => line.split(',').slice(0, 2).join(','));
    expect(new Set(faceRows)).toEqual(new Set(['rows.tar.bz2,faces/100.jpg', 'rows.tar.bz2,faces/101.png', 'rows.tar.bz2,faces/nested/102.jpg']));
    expect(csv['job-1/language.csv']).toContain('rows.tar.bz2,notes/hello.txt,unknown,Maria.,');
  });

  it('scores an image inside an archive exactly as the same image uploaded alone', async () => {
    await writeZip(join(dir, 'same.zip'), TREE);
    await writeFile(join(dir, '100.jpg'), TREE['faces/100.jpg']);
    const { json } = await predict([await upload('same.zip'), await upload('100.jpg')]);
    const inside = json[0].results.predictions.find((p: any) => p.file === 'faces/100.jpg');
    expect(inside.models).toEqual(json[1].results.predictions[0].models);
  });
});

describe('entries and archives it cannot use', () => {
  const evil = { '../evil.jpg': 'escapes upward', '/abs.jpg': 'absolute', 'ok/fine.jpg': 'stays inside' };
  const refusals = [
    { message: 'refused: path escapes the archive: ../evil.jpg', file: '../evil.jpg' },
    { message: 'refused: path escapes the archive: /abs.jpg', file: '/abs.jpg' },
  ];

  it('refuses entries whose path escapes (zip), predicting the rest', async () => {
    await writeZipWithNames(join(dir, 'evil.zip'), evil);
    const { json } = await predict([await upload('evil.zip')]);
    expect(files(json[0])).toEqual(['ok/fine.jpg']);
    expect(json[0].results.errors).toEqual(refusals);
  });

  it('refuses entries whose path escapes (tar)', async () => {
    await writeTarWithNames(join(dir, 'evil.tar'), evil);
    const { json } = await predict([await upload('evil.tar')]);
    expect(files(json[0])).toEqual(['ok/fine.jpg']);
    expect(json[0].results.errors).toEqual(refusals);
  });

  it('gives a corrupt or truncated archive one per-file error naming it; the job goes on', async () => {
    await writeFile(join(dir, 'broken.zip'), 'PK\u0003\u0004 this is no zip at all');
    await writeTar(join(dir, 'whole.tar.gz'), join(dir, 'tree'), '-czf');
    const whole = await readFile(join(dir, 'whole.tar.gz'));
    await writeFile(join(dir, 'cut.tar.gz'), whole.subarray(0, Math.floor(whole.length / 2)));
    await writeFile(join(dir, 'broken.tar.xz'), 'not xz either');
    await writeFile(join(dir, 'broken.tar.bz2'), 'BZh9 nor bzip2');
    const names = ['broken.zip', 'cut.tar.gz', 'broken.tar.xz', 'broken.tar.bz2'];
    const { json, counts } = await predict(await Promise.all(names.map((n) => upload(n))));
    for (const [i, name] of names.entries()) {
      const errors = json[i].results.errors;
      expect(errors.filter((e: any) => e.file === name)).toEqual([
        { message: expect.stringMatching(new RegExp(`^${name.replace(/\./g, '\\.')}: corrupt or truncated archive`)), file: name },
      ]);
    }
    expect(counts.numErrors).toBe(json.reduce((n, r) => n + r.results.errors.length, 0));
  });

  it('says an archive inside an archive is not expanded', async () => {
    await writeZip(join(dir, 'inner.zip'), { 'a.jpg': 'x' });
    await writeZip(join(dir, 'outer.zip'), { 'inner.zip': await readFile(join(dir, 'inner.zip')), 'b.jpg': 'y' });
    const { json } = await predict([await upload('outer.zip')]);
    expect(files(json[0])).toEqual(['b.jpg']);
    expect(json[0].results.errors).toEqual([{ message: expect.stringContaining('nested archives are not expanded'), file: 'inner.zip' }]);
  });
});

describe('media limits', () => {
  it('makes audio over 3 hours a per-file error, uploaded alone or inside an archive (WAV, measured from its header)', async () => {
    const long = wav(1, 3 * 3600 + 60); // claims 3 h 1 min
    await writeFile(join(dir, 'long.wav'), long);
    await writeZip(join(dir, 'long.zip'), { 'rec/long.wav': long, 'rec/short.wav': wav(1) });
    const { json, counts } = await predict([await upload('long.wav'), await upload('long.zip')], request({ prosody: {} }));
    expect(json[0].results).toEqual({ predictions: [], errors: [{ message: 'long.wav is 3h 1m long: audio and video files may be at most 3 hours', file: 'long.wav' }] });
    expect(files(json[1])).toEqual(['rec/short.wav']);
    expect(json[1].results.errors).toEqual([{ message: expect.stringContaining('at most 3 hours'), file: 'rec/long.wav' }]);
    expect(counts).toMatchObject({ numPredictions: 1, numErrors: 2 });
  });

  it('makes a URL file over 1 GB a per-file error naming the limit', async () => {
    const stopped = (file: string, kind: ResolvedSource['kind']): ResolvedSource => {
      const url = `http://127.0.0.1:9/${file}`;
      return { source: { type: 'url', url }, file, kind, contentKey: `url:${url}`, bytes: MAX_URL_BYTES + 1 };
    };
    const { json } = await predict([stopped('huge.mp4', 'video'), stopped('huge.zip', 'archive')]);
    expect(json.map((r) => r.results)).toEqual(['huge.mp4', 'huge.zip'].map((file) => ({
      predictions: [], errors: [{ message: `${file} is larger than the 1 GB limit for files reached by URL`, file }],
    })));
  });
});

describe('an archive URL the emulator does not fetch', () => {
  it('stands for a folder named after it holding a few images (faces.zip → faces/1.jpg …), the same each time', async () => {
    const url = 'https://hume-tutorials.s3.amazonaws.com/faces.zip';
    const remote: ResolvedSource = { source: { type: 'url', url }, file: 'faces.zip', kind: 'archive', contentKey: `url:${url}` };
    const a = await predict([remote], request({ face: {} }));
    const b = await predict([remote], request({ face: {} }));
    expect(files(a.json[0]).length).toBeGreaterThanOrEqual(2);
    expect(files(a.json[0]).every((f) => /^faces\/\d+\.jpg$/.test(f))).toBe(true);
    expect(b.json).toEqual(a.json);
    expect(a.json[0].results.errors).toEqual([]);
  });
});
