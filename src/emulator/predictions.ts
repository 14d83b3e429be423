/**
 * Fake but well-formed predictions (hume-batch-api.md §4). Every number is drawn from a PRNG
 * seeded with the source's content key and the model name, so the same input always yields the
 * same predictions and they can be rebuilt on demand instead of being kept in memory.
 */
import type { ModelName } from '../hume/schemas.js';
import type { MediaKind } from './media.js';
import {
  BURST_DESCRIPTIONS, EXPRESSIONS_48, EXPRESSIONS_53, FACE_DESCRIPTIONS, FACS, SENTIMENT, TOXICITY, TRANSCRIPT_WORDS,
} from './names.js';
import { createRandom, type Random } from './random.js';
import { requestedModels, type EchoedRequest, type Granularity } from './request.js';

export interface Score { name: string; score: number }
export interface Interval { begin: number; end: number }
interface Metadata { confidence: number; detected_language: string | null }
export interface ModelOutput {
  metadata: Metadata | null;
  grouped_predictions: { id: string; predictions: Record<string, unknown>[] }[];
}
export interface InferencePrediction { file: string; file_type: string; models: Partial<Record<ModelName, ModelOutput>> }
export interface PerFileError { message: string; file: string }
export type SourceJson =
  | { type: 'url'; url: string }
  | { type: 'file'; filename: string; content_type: string | null; md5sum: string }
  | { type: 'text' };
export interface SourceResult {
  source: SourceJson;
  results?: { predictions: InferencePrediction[]; errors: PerFileError[] };
  error?: string;
}

/** What is kept of a source once its content is known: enough to rebuild its predictions. */
export interface ResolvedSource {
  source: SourceJson;
  /** Whole-source failure, e.g. a download that failed. */
  error?: string;
  /** Name reported as `predictions[].file`. */
  file: string;
  kind: MediaKind;
  /** Seeds every score: a hash of the content (text, downloaded bytes, upload md5, or remote URL). */
  contentKey: string;
  /** The string of a raw-text source; language and ner predict over it. */
  text?: string;
}

const APPLIES: Record<MediaKind, readonly ModelName[]> = {
  image: ['face', 'facemesh'],
  audio: ['burst', 'prosody', 'language', 'ner'],
  video: ['face', 'facemesh', 'burst', 'prosody', 'language', 'ner'],
  text: ['language', 'ner'],
  archive: [],
  unknown: [],
};
/** Models that need a transcript when run on audio or video. */
const NEEDS_TRANSCRIPT: readonly ModelName[] = ['prosody', 'language', 'ner'];

export function predictSource(src: ResolvedSource, request: EchoedRequest): SourceResult {
  if (src.error !== undefined) return { source: src.source, error: src.error };
  const errors: PerFileError[] = [];
  const fail = (message: string): SourceResult => ({
    source: src.source,
    results: { predictions: [], errors: [...errors, { message, file: src.file }] },
  });

  if (src.kind === 'archive') return fail('archives are not expanded by the emulator; upload or link the media files');
  const wanted = requestedModels(request.models);
  let models = wanted.filter((m) => APPLIES[src.kind].includes(m));
  const transcriptionOff = request.transcription === null;
  const isMedia = src.kind === 'audio' || src.kind === 'video';
  if (isMedia && transcriptionOff) models = models.filter((m) => m !== 'language' && m !== 'ner');
  if (models.length === 0) {
    return fail(
      src.kind === 'unknown'
        ? `unsupported media type: cannot tell what ${src.file} is from its name or content type`
        : `no requested model applies to ${src.kind} input (requested: ${wanted.join(', ')})`,
    );
  }

  const transcript = src.text !== undefined ? textTranscript(src.text) : fakeTranscript(src.contentKey, isMedia);
  if (isMedia && !transcriptionOff) {
    const threshold = request.transcription?.confidence_threshold ?? 0.5;
    if (transcript.confidence < threshold) {
      errors.push({
        message: `transcript confidence (${transcript.confidence.toFixed(2)}) below threshold value (${threshold})`,
        file: src.file,
      });
      models = models.filter((m) => !NEEDS_TRANSCRIPT.includes(m));
      if (models.length === 0) return { source: src.source, results: { predictions: [], errors } };
    }
  }

  const ctx: Context = {
    request,
    transcript,
    isMedia,
    transcriptionOff,
    metadata: isMedia && !transcriptionOff
      ? { confidence: transcript.confidence, detected_language: request.transcription?.language ?? 'en' }
      : null,
    frames: src.kind === 'video' ? videoFrames(transcript.durationSec, request.models.face?.fps_pred ?? 3) : [{ frame: 0, time: 0 }],
  };
  const out: Partial<Record<ModelName, ModelOutput>> = {};
  for (const model of models) out[model] = BUILDERS[model](createRandom(`${src.contentKey}|${model}`), ctx);
  return {
    source: src.source,
    results: { predictions: [{ file: src.file, file_type: src.kind, models: out }], errors },
  };
}

// ---------------------------------------------------------------------------------------------
// Transcripts: the text predictions run over (raw text as given, media gets a fake one)
// ---------------------------------------------------------------------------------------------

interface Segment { text: string; position: Interval; time?: Interval }
interface Transcript {
  words: Segment[];
  sentences: Segment[];
  whole: Segment;
  confidence: number;
  durationSec: number;
}

function textTranscript(text: string): Transcript {
  const words = matches(text, /\S+/g);
  const sentences = matches(text, /[^.!?\s][^.!?]*[.!?]*/g).map(trimSegment);
  return { words, sentences, whole: { text, position: { begin: 0, end: text.length } }, confidence: 1, durationSec: 0 };
}

/** A few deterministic sentences with word timings, standing in for speech recognition. */
function fakeTranscript(contentKey: string, timed: boolean): Transcript {
  const rng = createRandom(`${contentKey}|transcript`);
  const count = rng.int(6, 16);
  const words: Segment[] = [];
  const sentences: Segment[] = [];
  let text = '';
  let clock = rng.between(0.1, 0.8);
  let sentenceStart = 0;
  let sentenceTime = clock;
  for (let i = 0; i < count; i++) {
    const word = TRANSCRIPT_WORDS[rng.int(0, TRANSCRIPT_WORDS.length - 1)] ?? 'hello';
    const last = i === count - 1 || rng.chance(0.2);
    const token = last ? `${word}.` : word;
    if (text) text += ' ';
    const begin = text.length;
    text += token;
    const time = { begin: round(clock), end: round(clock + rng.between(0.2, 0.6)) };
    clock = time.end + rng.between(0.05, 0.3);
    words.push({ text: token, position: { begin, end: text.length }, ...(timed ? { time } : {}) });
    if (last) {
      const position = { begin: sentenceStart, end: text.length };
      sentences.push({
        text: text.slice(sentenceStart),
        position,
        ...(timed ? { time: { begin: round(sentenceTime), end: time.end } } : {}),
      });
      sentenceStart = text.length + 1;
      sentenceTime = clock;
    }
  }
  const durationSec = round(clock + 0.2);
  return {
    words,
    sentences,
    whole: { text, position: { begin: 0, end: text.length }, ...(timed ? { time: { begin: 0, end: durationSec } } : {}) },
    confidence: round(rng.between(0.6, 0.99)),
    durationSec,
  };
}

function matches(text: string, re: RegExp): Segment[] {
  return [...text.matchAll(re)].map((m) => ({ text: m[0], position: { begin: m.index, end: m.index + m[0].length } }));
}

function trimSegment(s: Segment): Segment {
  const trimmed = s.text.trimEnd();
  return { text: trimmed, position: { begin: s.position.begin, end: s.position.begin + trimmed.length } };
}

function segments(t: Transcript, granularity: Granularity): Segment[] {
  if (granularity === 'word') return t.words;
  if (granularity === 'conversational_turn') return [t.whole];
  return t.sentences.length > 0 ? t.sentences : [t.whole]; // sentence; utterance behaves like sentence
}

// ---------------------------------------------------------------------------------------------
// Per-model builders
// ---------------------------------------------------------------------------------------------

interface Context {
  request: EchoedRequest;
  transcript: Transcript;
  isMedia: boolean;
  transcriptionOff: boolean;
  metadata: Metadata | null;
  /** Frames analysed: one for an image, `fps_pred` per second of a video (at most 10). */
  frames: { frame: number; time: number }[];
}

/** Videos are assumed to be 30 fps; `fps_pred: 0` means every frame. */
function videoFrames(durationSec: number, fpsPred: number): { frame: number; time: number }[] {
  const fps = fpsPred > 0 ? Math.min(fpsPred, 30) : 30;
  const count = Math.min(10, Math.max(1, Math.floor(durationSec * fps)));
  return Array.from({ length: count }, (_, i) => ({ frame: Math.round((i * 30) / fps), time: round(i / fps) }));
}

type Builder = (rng: Random, ctx: Context) => ModelOutput;

const scores = (rng: Random, names: readonly string[]): Score[] => names.map((name) => ({ name, score: rng.next() }));
const round = (n: number): number => Math.round(n * 1000) / 1000;

function distribution(rng: Random, names: readonly string[]): Score[] {
  const raw = names.map(() => rng.next() ** 2);
  const sum = raw.reduce((a, b) => a + b, 0);
  return names.map((name, i) => ({ name, score: (raw[i] ?? 0) / sum }));
}

const single = (metadata: Metadata | null, id: string, predictions: Record<string, unknown>[]): ModelOutput => ({
  metadata,
  grouped_predictions: [{ id, predictions }],
});

/** One entry per frame and face; faces are grouped by identity only when asked. */
function perFace(rng: Random, ctx: Context, item: (rng: Random, at: { frame: number; time: number }, face: number) => Record<string, unknown>): ModelOutput {
  const identify = ctx.request.models.face?.identify_faces ?? false;
  const faces = rng.int(1, 2);
  const groups = new Map<string, Record<string, unknown>[]>();
  for (const at of ctx.frames) {
    for (let f = 0; f < faces; f++) {
      const id = identify ? `face_${f}` : 'unknown';
      const group = groups.get(id) ?? [];
      group.push(item(rng, at, f));
      groups.set(id, group);
    }
  }
  return { metadata: null, grouped_predictions: [...groups].map(([id, predictions]) => ({ id, predictions })) };
}

const BUILDERS: Record<ModelName, Builder> = {
  face: (rng, ctx) => {
    const cfg = ctx.request.models.face;
    return perFace(rng, ctx, (r, at, f) => {
      const size = r.between(cfg?.min_face_size ?? 60, 600);
      return {
        frame: at.frame,
        time: at.time,
        prob: r.between(cfg?.prob_threshold ?? 0.99, 1),
        box: { x: round(r.between(0, 400) + f * 700), y: round(r.between(0, 400)), w: round(size), h: round(size * 1.3) },
        emotions: scores(r, EXPRESSIONS_48),
        facs: cfg?.facs ? scores(r, FACS) : null,
        descriptions: cfg?.descriptions ? scores(r, FACE_DESCRIPTIONS) : null,
      };
    });
  },
  facemesh: (rng, ctx) => perFace(rng, ctx, (r) => ({ emotions: scores(r, EXPRESSIONS_48) })),
  burst: (rng, ctx) => {
    const bursts = Array.from({ length: rng.int(1, 2) }, () => {
      const begin = round(rng.between(0, Math.max(0.5, ctx.transcript.durationSec - 1)));
      return { time: { begin, end: round(begin + rng.between(0.3, 1)) }, emotions: scores(rng, EXPRESSIONS_48), descriptions: scores(rng, BURST_DESCRIPTIONS) };
    });
    return single(null, 'unknown', bursts);
  },
  prosody: (rng, ctx) => {
    const cfg = ctx.request.models.prosody;
    const speaker = cfg?.identify_speakers || ctx.request.transcription?.identify_speakers;
    const window = cfg?.window;
    const duration = ctx.transcript.durationSec;
    const units: { text?: string; time: Interval }[] = window
      ? Array.from({ length: Math.max(1, Math.floor((duration - window.length) / window.step) + 1) }, (_, i) => ({
          time: { begin: round(i * window.step), end: round(Math.min(duration, i * window.step + window.length)) },
        }))
      : ctx.transcriptionOff
        ? [{ time: { begin: 0, end: duration } }]
        : segments(ctx.transcript, cfg?.granularity ?? 'utterance').map((s) => ({ text: s.text, time: s.time ?? { begin: 0, end: duration } }));
    return single(ctx.metadata, speaker ? 'speaker_0' : 'unknown', units.map((u) => ({
      ...u,
      confidence: ctx.transcriptionOff || window ? null : rng.between(0.7, 1),
      speaker_confidence: speaker ? rng.between(0.6, 1) : null,
      emotions: scores(rng, EXPRESSIONS_48),
    })));
  },
  language: (rng, ctx) => {
    const cfg = ctx.request.models.language;
    const speaker = cfg?.identify_speakers || ctx.request.transcription?.identify_speakers;
    return single(ctx.metadata, speaker ? 'speaker_0' : 'unknown',
      segments(ctx.transcript, cfg?.granularity ?? 'word').map((s) => ({
        text: s.text,
        position: s.position,
        time: s.time ?? null,
        confidence: ctx.isMedia ? rng.between(0.7, 1) : null,
        speaker_confidence: speaker ? rng.between(0.6, 1) : null,
        emotions: scores(rng, EXPRESSIONS_53),
        sentiment: cfg?.sentiment ? distribution(rng, SENTIMENT) : null,
        toxicity: cfg?.toxicity ? TOXICITY.map((name) => ({ name, score: rng.next() * 0.1 })) : null,
      })));
  },
  ner: (rng, ctx) => {
    const speaker = ctx.request.models.ner?.identify_speakers || ctx.request.transcription?.identify_speakers;
    // Entities: capitalised words (minus punctuation), a cheap and deterministic stand-in for NER.
    const entities = ctx.transcript.words.flatMap((w) => {
      const m = /^[^\p{L}]*(\p{Lu}[\p{L}'-]*)/u.exec(w.text);
      if (!m?.[1] || m[1] === 'I') return [];
      const begin = w.position.begin + w.text.indexOf(m[1]);
      return [{ entity: m[1], position: { begin, end: begin + m[1].length }, time: w.time ?? null }];
    });
    return {
      metadata: ctx.metadata,
      grouped_predictions: entities.length === 0 ? [] : [{
        id: speaker ? 'speaker_0' : 'unknown',
        predictions: entities.map((e) => ({
          ...e,
          entity_confidence: rng.between(0.5, 1),
          support: round(rng.between(1, 50)),
          uri: `https://www.wikidata.org/wiki/Special:Search?search=${encodeURIComponent(e.entity)}`,
          link_word: e.entity,
          confidence: ctx.isMedia ? rng.between(0.7, 1) : null,
          speaker_confidence: speaker ? rng.between(0.6, 1) : null,
          emotions: scores(rng, EXPRESSIONS_53),
        })),
      }],
    };
  },
};
