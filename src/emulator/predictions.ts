/**
 * One file's predictions (hume-batch-api.md §4), written as JSON text one prediction at a time.
 * A model with a backend (backends/) gets its output from it; every other model is synthetic:
 * each number drawn from a PRNG seeded with the file's content key and the model name, so the
 * same input always yields the same predictions, wherever it came from.
 */
import type { ModelName } from '../hume/schemas.js';
import type { BackendResult, Backends, BackendSource, ModelBackend, ModelConfigs } from './backends/index.js';
import { checkOutput } from './backends/output.js';
import { MAX_MEDIA_SECONDS, tooLongMessage } from './duration.js';
import type { JsonOut } from './json-out.js';
import type { MediaKind } from './media.js';
import {
  BURST_DESCRIPTIONS, EXPRESSIONS_48, EXPRESSIONS_53, FACE_DESCRIPTIONS, FACS, SENTIMENT, TOXICITY,
} from './names.js';
import { createRandom, type Random } from './random.js';
import { requestedModels, type EchoedRequest } from './request.js';
import { fakeTranscript, fileTranscript, headOf, writeText, type Interval, type Segments, type Transcript } from './transcript.js';

export interface Score { name: string; score: number }
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

/**
 * A source as resolved at job completion: enough to write its predictions. Texts and files are
 * read only through `path`, as a stream (see prediction-writer.ts).
 */
export interface ResolvedSource {
  source: SourceJson;
  /** Whole-source failure, e.g. a download that failed. */
  error?: string;
  /** Name reported as `predictions[].file`. */
  file: string;
  kind: MediaKind;
  /** Seeds every score: `md5:<hex>` of bytes, `text:<sha256 hex>` of a text, `url:<url>` for unfetched URLs. */
  contentKey: string;
  /** The bytes on disk (upload, downloaded URL, or the raw text as UTF-8) when the emulator has them. */
  path?: string;
  /** Size of `path`; for a URL stopped at the 1 GB limit, the bytes seen (> MAX_URL_BYTES) and no path. */
  bytes?: number;
  contentType?: string | null;
}

/** One file to predict for: a whole source, or one entry of an archive. */
export interface MediaFile {
  file: string;
  kind: MediaKind;
  contentKey: string;
  /** Where the file's content is read from: texts always; other files when a backend needs their bytes. */
  path?: string;
  contentType?: string | null;
  /** A URL download stopped at the 1 GB limit. */
  overUrlLimit?: boolean;
  /** Measured length of audio or video (WAV only, see duration.ts). */
  durationSec?: number;
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

/** The requested models that run on a file of this kind. */
export function applicableModels(kind: MediaKind, request: EchoedRequest): ModelName[] {
  const models = requestedModels(request.models).filter((m) => APPLIES[kind].includes(m));
  // Without transcription there are no words for language and ner to read in audio or video.
  return (kind === 'audio' || kind === 'video') && request.transcription === null
    ? models.filter((m) => m !== 'language' && m !== 'ner')
    : models;
}

/** Where real scores come from, the options they get, and the signal that stops asking (the emulator closing). */
export interface PredictionBackends {
  backends: Backends;
  configs: ModelConfigs;
  signal: AbortSignal;
}

/**
 * Writes the prediction for one file, `separator` first, if any model produced output; returns
 * the per-file errors (written by the caller, after all predictions of the source). Backends are
 * asked first: a model whose backend fails is left out of this file, with its error.
 */
export async function writeFilePrediction(
  f: MediaFile,
  request: EchoedRequest,
  out: JsonOut,
  separator: string,
  { backends, configs, signal }: PredictionBackends,
): Promise<{ predicted: boolean; errors: PerFileError[] }> {
  const errors: PerFileError[] = [];
  const fail = (message: string) => ({ predicted: false, errors: [...errors, { message, file: f.file }] });

  if (f.overUrlLimit) return fail(`${f.file} is larger than the 1 GB limit for files reached by URL`);
  if (f.durationSec !== undefined && f.durationSec > MAX_MEDIA_SECONDS) return fail(tooLongMessage(f.file, f.durationSec));
  if (f.kind === 'archive') return fail(`${f.file} is an archive inside an archive; nested archives are not expanded`);
  const applicable = applicableModels(f.kind, request);
  if (applicable.length === 0 || f.kind === 'unknown') {
    return fail(
      f.kind === 'unknown'
        ? `unsupported media type: cannot tell what ${f.file} is from its name or content type`
        : `no requested model applies to ${f.kind} input (requested: ${requestedModels(request.models).join(', ')})`,
    );
  }
  const kind = f.kind;
  const source: BackendSource = { file: f.file, kind, ...(f.path !== undefined ? { path: f.path } : {}), contentType: f.contentType ?? null };
  const outputs = new Map<ModelName, ModelOutput>();
  const backendErrors: PerFileError[] = [];
  for (const model of applicable) {
    const backend = backends[model];
    if (!backend) continue;
    const result = await ask(backend, model, source, configs[model] ?? {}, signal);
    if ('error' in result) backendErrors.push({ message: result.error, file: f.file });
    else outputs.set(model, result.output);
  }
  let synthetic = applicable.filter((m) => !backends[m]);

  const transcriptionOff = request.transcription === null;
  const isMedia = kind === 'audio' || kind === 'video';
  const transcript = kind === 'text' && f.path !== undefined ? fileTranscript(f.path) : fakeTranscript(f.contentKey, isMedia);
  // The fake transcript's confidence gates synthetic models (as Hume's does every model: the error
  // comes even for burst alone); a backend transcribing for itself is not judged by it.
  const transcribedByBackend = applicable.some((m) => NEEDS_TRANSCRIPT.includes(m) && backends[m]);
  if (isMedia && !transcriptionOff && (!transcribedByBackend || synthetic.some((m) => NEEDS_TRANSCRIPT.includes(m)))) {
    const threshold = request.transcription?.confidence_threshold ?? 0.5;
    if (transcript.confidence < threshold) {
      errors.push({
        message: `transcript confidence (${transcript.confidence.toFixed(2)}) below threshold value (${threshold})`,
        file: f.file,
      });
      synthetic = synthetic.filter((m) => !NEEDS_TRANSCRIPT.includes(m));
    }
  }
  errors.push(...backendErrors);
  const models = applicable.filter((m) => outputs.has(m) || synthetic.includes(m));
  if (models.length === 0) return { predicted: false, errors };

  const ctx: Context = {
    request,
    transcript,
    isMedia,
    transcriptionOff,
    metadata: isMedia && !transcriptionOff
      ? { confidence: transcript.confidence, detected_language: request.transcription?.language ?? 'en' }
      : null,
    frames: f.kind === 'video' ? videoFrames(transcript.durationSec, request.models.face?.fps_pred ?? 3) : [{ frame: 0, time: 0 }],
  };
  await out.write(`${separator}{"file":${JSON.stringify(f.file)},"file_type":${JSON.stringify(kind)},"models":{`);
  for (const [i, model] of models.entries()) {
    await out.write(`${i > 0 ? ',' : ''}${JSON.stringify(model)}:`);
    const output = outputs.get(model);
    if (output) await out.value(output);
    else await BUILDERS[model](createRandom(`${f.contentKey}|${model}`), ctx, out);
  }
  await out.write('}}');
  return { predicted: true, errors };
}

/**
 * A backend's answer, checked: one that throws (a bug in it, not the emulator closing) or answers
 * something other than `{error}` or Hume's shape fails this file only. The emulator closing stops
 * the wait even for a backend that never answers.
 */
async function ask(backend: ModelBackend, model: ModelName, source: BackendSource, config: Record<string, unknown>, signal: AbortSignal): Promise<BackendResult> {
  const failed = (why: string): BackendResult => ({ error: `${model} backend ${backend.info().backend} failed: ${why}` });
  let answer: unknown;
  try {
    answer = await untilAborted(backend.predict(source, config, signal), signal);
  } catch (err) {
    if (signal.aborted) throw err;
    return failed((err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '');
  }
  if (typeof answer === 'object' && answer !== null && typeof (answer as { error?: unknown }).error === 'string') return answer as BackendResult;
  const checked = checkOutput(model, (answer as { output?: unknown } | null)?.output);
  return 'problem' in checked ? failed(`answered a malformed prediction (${checked.problem})`) : checked;
}

function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

// ---------------------------------------------------------------------------------------------
// Per-model builders: each writes one model's `{metadata, grouped_predictions}`
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

/** Writes a model's output; draws from `rng` in a fixed order, so scores are reproducible. */
type Builder = (rng: Random, ctx: Context, out: JsonOut) => Promise<void>;

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

/**
 * A model whose predictions follow the transcript, written one by one (a raw text may have
 * millions of words): the group is opened at the first prediction, so none means `[]`.
 */
async function writeStreamed<T>(
  out: JsonOut,
  metadata: Metadata | null,
  id: string,
  batches: AsyncIterable<readonly T[]>,
  write: (item: T) => Promise<void>,
): Promise<void> {
  await out.write(`{"metadata":${JSON.stringify(metadata)},"grouped_predictions":[`);
  let count = 0;
  for await (const batch of batches) {
    for (const item of batch) {
      await out.write(count++ === 0 ? `{"id":${JSON.stringify(id)},"predictions":[` : ',');
      await write(item);
    }
  }
  await out.write(count > 0 ? ']}]}' : ']}');
}

/** Entities: capitalised words (minus punctuation), a cheap and deterministic stand-in for NER. */
async function* entities(words: Segments): AsyncGenerator<{ entity: string; position: Interval; time: Interval | null }[]> {
  for await (const batch of words) {
    yield batch.flatMap((w) => {
      const head = headOf(w.text);
      const m = /^[^\p{L}]*(\p{Lu}[\p{L}'-]*)/u.exec(head);
      if (!m?.[1] || m[1] === 'I') return [];
      const begin = w.position.begin + head.indexOf(m[1]);
      return [{ entity: m[1], position: { begin, end: begin + m[1].length }, time: w.time ?? null }];
    });
  }
}

const speakerId = (on: boolean | undefined): string => (on ? 'speaker_0' : 'unknown');

const BUILDERS: Record<ModelName, Builder> = {
  face: (rng, ctx, out) => {
    const cfg = ctx.request.models.face;
    return out.value(perFace(rng, ctx, (r, at, f) => {
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
    }));
  },
  facemesh: (rng, ctx, out) => out.value(perFace(rng, ctx, (r) => ({ emotions: scores(r, EXPRESSIONS_48) }))),
  burst: (rng, ctx, out) => {
    const bursts = Array.from({ length: rng.int(1, 2) }, () => {
      const begin = round(rng.between(0, Math.max(0.5, ctx.transcript.durationSec - 1)));
      return { time: { begin, end: round(begin + rng.between(0.3, 1)) }, emotions: scores(rng, EXPRESSIONS_48), descriptions: scores(rng, BURST_DESCRIPTIONS) };
    });
    return out.value(single(null, 'unknown', bursts));
  },
  // Prosody runs on audio and video only, whose (fake) transcript is a few short sentences held as strings.
  prosody: async (rng, ctx, out) => {
    const cfg = ctx.request.models.prosody;
    const speaker = cfg?.identify_speakers || ctx.request.transcription?.identify_speakers;
    const window = cfg?.window;
    const duration = ctx.transcript.durationSec;
    const units: { text?: string; time: Interval }[] = [];
    if (window) {
      const count = Math.max(1, Math.floor((duration - window.length) / window.step) + 1);
      for (let i = 0; i < count; i++) {
        units.push({ time: { begin: round(i * window.step), end: round(Math.min(duration, i * window.step + window.length)) } });
      }
    } else if (ctx.transcriptionOff) units.push({ time: { begin: 0, end: duration } });
    else {
      for await (const batch of ctx.transcript.segments(cfg?.granularity ?? 'utterance')) {
        for (const s of batch) units.push({ text: headOf(s.text), time: s.time ?? { begin: 0, end: duration } });
      }
    }
    await out.value(single(ctx.metadata, speakerId(speaker), units.map((u) => ({
      ...u,
      confidence: ctx.transcriptionOff || window ? null : rng.between(0.7, 1),
      speaker_confidence: speaker ? rng.between(0.6, 1) : null,
      emotions: scores(rng, EXPRESSIONS_48),
    }))));
  },
  language: (rng, ctx, out) => {
    const cfg = ctx.request.models.language;
    const speaker = cfg?.identify_speakers || ctx.request.transcription?.identify_speakers;
    return writeStreamed(out, ctx.metadata, speakerId(speaker), ctx.transcript.segments(cfg?.granularity ?? 'word'), async (s) => {
      const rest = JSON.stringify({
        position: s.position,
        time: s.time ?? null,
        confidence: ctx.isMedia ? rng.between(0.7, 1) : null,
        speaker_confidence: speaker ? rng.between(0.6, 1) : null,
        emotions: scores(rng, EXPRESSIONS_53),
        sentiment: cfg?.sentiment ? distribution(rng, SENTIMENT) : null,
        toxicity: cfg?.toxicity ? TOXICITY.map((name) => ({ name, score: rng.next() * 0.1 })) : null,
      });
      await out.write('{"text":');
      await writeText(out, s.text);
      await out.write(`,${rest.slice(1)}`);
    });
  },
  ner: (rng, ctx, out) => {
    const speaker = ctx.request.models.ner?.identify_speakers || ctx.request.transcription?.identify_speakers;
    return writeStreamed(out, ctx.metadata, speakerId(speaker), entities(ctx.transcript.words()), (e) => out.value({
      ...e,
      entity_confidence: rng.between(0.5, 1),
      support: round(rng.between(1, 50)),
      uri: `https://www.wikidata.org/wiki/Special:Search?search=${encodeURIComponent(e.entity)}`,
      link_word: e.entity,
      confidence: ctx.isMedia ? rng.between(0.7, 1) : null,
      speaker_confidence: speaker ? rng.between(0.6, 1) : null,
      emotions: scores(rng, EXPRESSIONS_53),
    }));
  },
};
