/**
 * Validates a submitted job against the v0 contract and Hume's limits, and builds the request
 * as Hume echoes it back (hume-batch-api.md §3.1): defaults filled in, explicit nulls for
 * unrequested models and unset toggles, `files: []` unless files were uploaded.
 */
import { InferenceBaseRequest, MODEL_NAMES, type ModelName } from '../hume/schemas.js';
import type { ResolvedOptions } from './options.js';

/** A rejected request: answered 400 `{message}`. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
}

export interface UploadedFile {
  filename: string;
  content_type: string | null;
  md5sum: string;
}

/** A raw text of the request, kept on disk as UTF-8 (texts may be 255 MB; Hume echoes them). */
export interface TextInput {
  path: string;
  bytes: number;
  /** Hex SHA-256 of the UTF-8 bytes. */
  sha256: string;
  /** The text itself when short (see json-intake.ts): echoes of small jobs need no file reads. */
  short?: string;
}

/** An upload as stored: what the request echoes, plus where its bytes are. */
export interface StoredUpload {
  echo: UploadedFile;
  path: string;
  bytes: number;
}

type Toggle = Record<string, unknown> | null;
export interface EchoedModels {
  face: { fps_pred: number; prob_threshold: number; identify_faces: boolean; min_face_size: number;
    facs: Toggle; descriptions: Toggle; save_faces: boolean } | null;
  burst: Record<string, never> | null;
  prosody: { granularity: Granularity; window: { length: number; step: number } | null;
    identify_speakers: boolean } | null;
  language: { granularity: Granularity; sentiment: Toggle; toxicity: Toggle; identify_speakers: boolean } | null;
  ner: { identify_speakers: boolean } | null;
  facemesh: Record<string, never> | null;
}
export type Granularity = 'word' | 'sentence' | 'utterance' | 'conversational_turn';

export interface EchoedTranscription {
  language: string | null;
  identify_speakers: boolean;
  confidence_threshold: number;
}

export interface EchoedRequest {
  models: EchoedModels;
  /** Absent when the request had none (automatic), `null` when transcription was turned off. */
  transcription?: EchoedTranscription | null;
  urls: string[];
  /** Echoed as the texts' contents (streamed from disk, see job-json.ts). */
  text: TextInput[];
  callback_url: string | null;
  notify: boolean;
  files: UploadedFile[];
}

/** Parses a JSON value as `InferenceBaseRequest` with the shared schema. */
export function parseBaseRequest(body: unknown): InferenceBaseRequest {
  const parsed = InferenceBaseRequest.safeParse(body ?? {});
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
    throw new ValidationError(`invalid request: ${detail}`);
  }
  return parsed.data;
}

/**
 * Checks the limits left once the body is read (text count and sizes are enforced while the
 * texts stream to disk, upload count and sizes while files do), and builds the echo.
 */
export function echoRequest(
  req: InferenceBaseRequest,
  text: TextInput[],
  files: UploadedFile[],
  limits: ResolvedOptions['limits'],
): EchoedRequest {
  const urls = req.urls ?? [];
  if (urls.length > limits.maxUrlsPerJob) {
    throw new ValidationError(`too many urls: ${urls.length} (limit maxUrlsPerJob = ${limits.maxUrlsPerJob} per job)`);
  }
  urls.forEach((url, i) => {
    if (!isHttpUrl(url)) throw new ValidationError(`urls[${i}] is not an http(s) URL: ${JSON.stringify(url)}`);
  });
  if (urls.length + text.length + files.length === 0) {
    throw new ValidationError('no source: give at least one of urls, text or an uploaded file');
  }
  if (req.callback_url != null && !isHttpUrl(req.callback_url)) {
    throw new ValidationError(`callback_url is not an http(s) URL: ${JSON.stringify(req.callback_url)}`);
  }
  const models = echoModels(req.models);
  if (MODEL_NAMES.every((m) => models[m] === null)) {
    throw new ValidationError('models: enable at least one model (or omit models to run all of them)');
  }
  const echoed: EchoedRequest = {
    models,
    urls,
    text,
    callback_url: req.callback_url ?? null,
    notify: req.notify ?? false,
    files,
  };
  if (req.transcription === null) echoed.transcription = null;
  else if (req.transcription !== undefined) {
    echoed.transcription = {
      language: req.transcription.language ?? null,
      identify_speakers: req.transcription.identify_speakers ?? false,
      confidence_threshold: req.transcription.confidence_threshold ?? 0.5,
    };
  }
  return echoed;
}

function echoModels(models: InferenceBaseRequest['models']): EchoedModels {
  // Omitted (or null) models means every model runs with its defaults.
  const m = models ?? { face: {}, burst: {}, prosody: {}, language: {}, ner: {}, facemesh: {} };
  return {
    face: m.face
      ? {
          fps_pred: m.face.fps_pred ?? 3,
          prob_threshold: m.face.prob_threshold ?? 0.99,
          identify_faces: m.face.identify_faces ?? false,
          min_face_size: m.face.min_face_size ?? 60,
          facs: m.face.facs ?? null,
          descriptions: m.face.descriptions ?? null,
          save_faces: m.face.save_faces ?? false,
        }
      : null,
    burst: m.burst ? {} : null,
    prosody: m.prosody
      ? {
          granularity: m.prosody.granularity ?? 'utterance',
          window: m.prosody.window
            ? { length: m.prosody.window.length ?? 4, step: m.prosody.window.step ?? 1 }
            : null,
          identify_speakers: m.prosody.identify_speakers ?? false,
        }
      : null,
    language: m.language
      ? {
          granularity: m.language.granularity ?? 'word',
          sentiment: m.language.sentiment ?? null,
          toxicity: m.language.toxicity ?? null,
          identify_speakers: m.language.identify_speakers ?? false,
        }
      : null,
    ner: m.ner ? { identify_speakers: m.ner.identify_speakers ?? false } : null,
    facemesh: m.facemesh ? {} : null,
  };
}

/** The models a job runs, in the contract's order. */
export const requestedModels = (models: EchoedModels): ModelName[] => MODEL_NAMES.filter((m) => models[m] !== null);

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}
