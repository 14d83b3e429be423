/**
 * The predictions writer: a JSON array as GET /predictions serves it, with the job's counts;
 * raw texts tokenised from disk exactly as the in-memory tokeniser did (words `/\S+/g`,
 * sentences trimmed, UTF-16 positions), across read chunks and for segments too long to hold;
 * and output of hundreds of MB written with flat memory.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePredictions } from '../../src/emulator/prediction-writer.js';
import type { ResolvedSource } from '../../src/emulator/predictions.js';
import { sha256Hex, createRandom } from '../../src/emulator/random.js';
import { echoRequest, parseBaseRequest } from '../../src/emulator/request.js';
import { HOLD_CHARS, isSpace } from '../../src/emulator/transcript.js';
import { HUME_LIMITS } from '../../src/hume/limits.js';

const request = (models: object) =>
  echoRequest(parseBaseRequest({ models, urls: ['https://example.test/a.jpg'] }), [], [], { ...HUME_LIMITS });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'writer-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

let texts = 0;
/** A raw-text source as the server stores it: the text as UTF-8 on disk. */
async function textSource(text: string): Promise<ResolvedSource> {
  const path = join(dir, `text-${texts++}.txt`);
  await writeFile(path, text);
  return { source: { type: 'text' }, file: 'text', kind: 'text', contentKey: `text:${sha256Hex(text)}`, path, bytes: Buffer.byteLength(text) };
}

async function predict(sources: ResolvedSource[], models: object) {
  const dest = join(dir, `out-${texts++}.json`);
  const counts = await writePredictions(sources, request(models), dest);
  return { counts, dest, json: JSON.parse(await readFile(dest, 'utf8')) as any[] };
}

/** The in-memory tokeniser the emulator had before streaming: the reference (entities as `text`, like `segments`). */
function reference(text: string) {
  const matches = (re: RegExp) => [...text.matchAll(re)].map((m) => ({ text: m[0], position: { begin: m.index, end: m.index + m[0].length } }));
  const words = matches(/\S+/g);
  const sentences = matches(/[^.!?\s][^.!?]*[.!?]*/g).map((s) => {
    const trimmed = s.text.trimEnd();
    return { text: trimmed, position: { begin: s.position.begin, end: s.position.begin + trimmed.length } };
  });
  const entities = words.flatMap((w) => {
    const m = /^[^\p{L}]*(\p{Lu}[\p{L}'-]*)/u.exec(w.text);
    if (!m?.[1] || m[1] === 'I') return [];
    const begin = w.position.begin + w.text.indexOf(m[1]);
    return [{ text: m[1], position: { begin, end: begin + m[1].length } }];
  });
  return { words, sentences: sentences.length > 0 ? sentences : [{ text, position: { begin: 0, end: text.length } }], entities };
}

const segments = (json: any[], model = 'language') =>
  (json[0].results.predictions[0].models[model].grouped_predictions[0]?.predictions ?? []).map((p: any) => ({ text: p.text ?? p.entity, position: p.position }));

/** Deterministic text from pieces chosen to sit on every boundary: multi-byte, surrogate pairs, odd spaces. */
function generatedText(seed: string, chars: number, longest: number): string {
  const rng = createRandom(seed);
  const letters = ['a', 'b', 'Q', 'é', '中', '😀', '7', "'", '-'];
  const spaces = [' ', ' ', '\n', '\t', '\u3000', '\u00a0', '\u2028', '  \r\n'];
  const stops = ['.', '!', '?', '...', '?!'];
  const parts: string[] = [];
  let length = 0;
  while (length < chars) {
    // Mostly short runs, now and then one longer than HOLD_CHARS or than a read chunk.
    const pattern = Array.from({ length: rng.int(1, 12) }, () => letters[rng.int(0, letters.length - 1)]).join('');
    const word = rng.chance(0.02) ? pattern.repeat(Math.ceil(rng.int(HOLD_CHARS, longest) / pattern.length)) : pattern;
    parts.push(rng.chance(0.3) ? word[0]!.toUpperCase() + word.slice(1) : word);
    parts.push(rng.chance(0.15) ? stops[rng.int(0, stops.length - 1)]! : '');
    parts.push(spaces[rng.int(0, spaces.length - 1)]!);
    length += word.length + 3;
  }
  return parts.join('');
}

describe('the predictions file', () => {
  it('is one JSON array, one element per source, with counts of predictions and errors', async () => {
    const url = 'https://example.test/pic.jpg';
    const sources: ResolvedSource[] = [
      { source: { type: 'url', url }, file: 'pic.jpg', kind: 'image', contentKey: `url:${url}` },
      { source: { type: 'url', url: 'http://127.0.0.1:9/gone.wav' }, file: 'gone.wav', kind: 'unknown', contentKey: '', error: 'failed to download: HTTP 404' },
      await textSource('Alice met Bob.'),
      { source: { type: 'file', filename: 'x.bin', content_type: null, md5sum: '0'.repeat(32) }, file: 'x.bin', kind: 'unknown', contentKey: `md5:${'0'.repeat(32)}` },
    ];
    const { counts, json, dest } = await predict(sources, { face: {}, language: {}, ner: {} });
    expect(json.map((r) => r.source.type)).toEqual(['url', 'url', 'text', 'file']);
    expect(json[1]).toEqual({ source: { type: 'url', url: 'http://127.0.0.1:9/gone.wav' }, error: 'failed to download: HTTP 404' });
    expect(json[0].results.predictions[0]).toMatchObject({ file: 'pic.jpg', file_type: 'image' });
    expect(Object.keys(json[2].results.predictions[0].models)).toEqual(['language', 'ner']);
    expect(json[3].results).toEqual({ predictions: [], errors: [{ message: expect.stringContaining('unsupported media type'), file: 'x.bin' }] });
    expect(counts).toEqual({ bytes: (await stat(dest)).size, numPredictions: 2, numErrors: 2 });
  });

  it('leaves nothing at the destination when aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('emulator closing'));
    const dest = join(dir, 'aborted.json');
    await expect(writePredictions([await textSource('words')], request({ language: {} }), dest, controller.signal)).rejects.toThrow('emulator closing');
    await expect(stat(dest)).rejects.toThrow('ENOENT');
  });
});

describe('raw text is tokenised from disk exactly as in memory', () => {
  it('treats as space exactly what JavaScript `\\s` does', () => {
    const units = Array.from({ length: 0x10000 }, (_, c) => c);
    expect(units.filter(isSpace)).toEqual(units.filter((c) => /\s/.test(String.fromCharCode(c))));
  });

  const small = [
    'First one. Second one!  Third?',
    '  leading and trailing space   ',
    'no punctuation at all\n\n',
    '...!!! ??',
    '',
    'Ünïcödé 😀 wörds. 中文 text?! Yes\u3000Okay\u2028Done.',
    "I think O'Brien-Smith met Paris. 'Quoted' words!",
  ];
  for (const text of small) {
    it(`small: ${JSON.stringify(text)}`, async () => {
      const expected = reference(text);
      const [words, sentences, turn] = await Promise.all(['word', 'sentence', 'conversational_turn'].map(async (granularity) =>
        segments((await predict([await textSource(text)], { language: { granularity } })).json)));
      expect(words).toEqual(expected.words);
      expect(sentences).toEqual(expected.sentences);
      expect(turn).toEqual([{ text, position: { begin: 0, end: text.length } }]);
      expect(segments((await predict([await textSource(text)], { ner: {} })).json, 'ner')).toEqual(expected.entities);
    });
  }

  it('a few MB of words, some longer than a read chunk (64 KiB): same words and entities', async () => {
    const text = generatedText('words', 4_000_000, 1_500_000);
    const expected = reference(text);
    expect(expected.words.some((w) => w.text.length > 1024 * 1024)).toBe(true); // spans several chunks
    const { json } = await predict([await textSource(text)], { language: {}, ner: {} });
    expect(segments(json)).toEqual(expected.words);
    expect(segments(json, 'ner')).toEqual(expected.entities);
  });

  it('20 MB of sentences, and the whole text as one conversational turn', async () => {
    const text = generatedText('sentences', 20_000_000, 3_000_000);
    const expected = reference(text);
    const source = await textSource(text);
    expect(segments((await predict([source], { language: { granularity: 'sentence' } })).json)).toEqual(expected.sentences);
    const [turn] = segments((await predict([source], { language: { granularity: 'conversational_turn' } })).json);
    expect(turn.position).toEqual({ begin: 0, end: text.length });
    expect(turn.text === text).toBe(true);
  });
});

describe('memory', () => {
  it('writes ~500 MB of predictions with the heap staying flat', async () => {
    // 170 000 words × ~3 KB of scores each (53 emotions, sentiment, toxicity).
    const source = await textSource('word '.repeat(170_000));
    const dest = join(dir, 'big.json');
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    let samples = 0;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().heapUsed);
      samples++;
    }, 5);
    try {
      const counts = await writePredictions([source], request({ language: { sentiment: {}, toxicity: {} } }), dest);
      expect(counts.bytes).toBeGreaterThan(450 * 1024 ** 2);
      expect(counts.numPredictions).toBe(1);
    } finally {
      clearInterval(timer);
      await rm(dest, { force: true });
    }
    expect(samples).toBeGreaterThan(10);
    // Holding the output would take > 450 MB. Streaming holds a 64 KiB chunk, one batch of
    // words and one prediction's scores; the rest is short-lived garbage that V8 reclaims
    // (its young generation alone may hold 32 MiB before a scavenge): measured 15-33 MB.
    expect(peak - before).toBeLessThan(96 * 1024 ** 2);
  });
});
