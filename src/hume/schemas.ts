/**
 * Zod schemas for Hume's batch API (v0), as permissive as the wire: every optional field is
 * nullish (Hume sends explicit nulls), objects keep unknown keys (`user_id`, `file_type`), and
 * enums accept values we do not know yet. Types are inferred from these schemas.
 *
 * Request schemas (`InferenceBaseRequest`) are strict about *values* (ranges, enums) because we
 * validate our users' model config before anything is sent; response schemas are lenient.
 */
import { z } from 'zod';

/** An enum that also accepts values Hume may add later, so parsing never breaks on them. */
const openEnum = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.union([z.enum(values), z.string()]);

export const GRANULARITIES = ['word', 'sentence', 'utterance', 'conversational_turn'] as const;
export const BCP47_TAGS = [
  'zh', 'da', 'nl', 'en', 'en-AU', 'en-IN', 'en-NZ', 'en-GB', 'fr', 'fr-CA', 'de', 'hi', 'hi-Latn', 'id', 'it',
  'ja', 'ko', 'no', 'pl', 'pt', 'pt-BR', 'pt-PT', 'ru', 'es', 'es-419', 'sv', 'ta', 'tr', 'uk',
] as const;
export const JOB_STATUSES = ['QUEUED', 'IN_PROGRESS', 'COMPLETED', 'FAILED'] as const;
export const MODEL_NAMES = ['face', 'burst', 'prosody', 'language', 'ner', 'facemesh'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];
export type JobStatus = (typeof JOB_STATUSES)[number];

// ---------------------------------------------------------------------------------------------
// Request: model configuration (validated strictly on the way out)
// ---------------------------------------------------------------------------------------------

const Toggle = z.object({}).loose();

export const FaceConfig = z
  .object({
    fps_pred: z.number().min(0).nullish(),
    prob_threshold: z.number().min(0).max(1).nullish(),
    identify_faces: z.boolean().nullish(),
    min_face_size: z.number().min(0).nullish(),
    facs: Toggle.nullish(),
    descriptions: Toggle.nullish(),
    save_faces: z.boolean().nullish(),
  })
  .strict();

export const ProsodyWindow = z
  .object({ length: z.number().min(0.5).nullish(), step: z.number().min(0.5).nullish() })
  .strict();

export const ProsodyConfig = z
  .object({
    granularity: z.enum(GRANULARITIES).nullish(),
    window: ProsodyWindow.nullish(),
    identify_speakers: z.boolean().nullish(),
  })
  .strict();

export const LanguageConfig = z
  .object({
    granularity: z.enum(GRANULARITIES).nullish(),
    sentiment: Toggle.nullish(),
    toxicity: Toggle.nullish(),
    identify_speakers: z.boolean().nullish(),
  })
  .strict();

export const NerConfig = z.object({ identify_speakers: z.boolean().nullish() }).strict();
export const Unconfigurable = z.object({}).strict();

export const ModelsConfig = z
  .object({
    face: FaceConfig.nullish(),
    burst: Unconfigurable.nullish(),
    prosody: ProsodyConfig.nullish(),
    language: LanguageConfig.nullish(),
    ner: NerConfig.nullish(),
    facemesh: Unconfigurable.nullish(),
  })
  .strict();

export const TranscriptionConfig = z
  .object({
    language: z.enum(BCP47_TAGS).nullish(),
    identify_speakers: z.boolean().nullish(),
    confidence_threshold: z.number().min(0).max(1).nullish(),
  })
  .strict();

/** What a caller may ask Hume to run: the model config shared by every job of a run. */
export const JobConfig = z.object({
  models: ModelsConfig.nullish(),
  /** `null` turns transcription off; omitted means automatic. */
  transcription: TranscriptionConfig.nullish(),
  notify: z.boolean().nullish(),
});

export const InferenceBaseRequest = JobConfig.extend({
  urls: z.array(z.string()).nullish(),
  text: z.array(z.string()).nullish(),
  callback_url: z.string().nullish(),
  /** Legacy asset-registry ids: accepted and ignored. */
  registry_files: z.array(z.string()).nullish(),
});

export type ModelsConfig = z.infer<typeof ModelsConfig>;
export type TranscriptionConfig = z.infer<typeof TranscriptionConfig>;
export type JobConfig = z.infer<typeof JobConfig>;
export type InferenceBaseRequest = z.infer<typeof InferenceBaseRequest>;

// ---------------------------------------------------------------------------------------------
// Responses (lenient)
// ---------------------------------------------------------------------------------------------

export const JobId = z.object({ job_id: z.string() }).loose();
export type JobId = z.infer<typeof JobId>;

export const FileInfo = z
  .object({ filename: z.string().nullish(), content_type: z.string().nullish(), md5sum: z.string() })
  .loose();

/** The request as Hume echoes it back: defaults filled in, unrequested models as `null`. */
export const InferenceRequest = z
  .object({
    models: z.record(z.string(), z.unknown()).nullish(),
    transcription: z.record(z.string(), z.unknown()).nullish(),
    urls: z.array(z.string()).nullish(),
    text: z.array(z.string()).nullish(),
    callback_url: z.string().nullish(),
    notify: z.boolean().nullish(),
    registry_files: z.array(z.string()).nullish(),
    files: z.array(FileInfo).nullish(),
  })
  .loose();

const QueuedState = z.object({ status: z.literal('QUEUED'), created_timestamp_ms: z.number() }).loose();
const InProgressState = z
  .object({ status: z.literal('IN_PROGRESS'), created_timestamp_ms: z.number(), started_timestamp_ms: z.number() })
  .loose();
const CompletedState = z
  .object({
    status: z.literal('COMPLETED'),
    created_timestamp_ms: z.number(),
    started_timestamp_ms: z.number(),
    ended_timestamp_ms: z.number(),
    num_predictions: z.number(),
    num_errors: z.number(),
  })
  .loose();
const FailedState = z
  .object({
    status: z.literal('FAILED'),
    created_timestamp_ms: z.number(),
    started_timestamp_ms: z.number().nullish(),
    ended_timestamp_ms: z.number().nullish(),
    message: z.string().nullish(),
  })
  .loose();
/**
 * A state whose status we do not know: kept, so a new Hume status never breaks a run. A *known*
 * status missing its fields is refused here, so it fails the parse instead of passing as unknown.
 */
const UnknownState = z
  .object({
    status: z.string().refine((s) => !(JOB_STATUSES as readonly string[]).includes(s), {
      message: 'known status, but the state lacks its required fields or has invalid ones',
    }),
    created_timestamp_ms: z.number().nullish(),
  })
  .loose();

export const JobState = z.union([
  z.discriminatedUnion('status', [QueuedState, InProgressState, CompletedState, FailedState]),
  UnknownState,
]);
export type JobState = z.infer<typeof JobState>;

export const InferenceJob = z
  .object({
    type: openEnum(['INFERENCE', 'EMBEDDING_GENERATION', 'TL_INFERENCE', 'TRAINING']).nullish(),
    job_id: z.string(),
    user_id: z.string().nullish(),
    request: InferenceRequest,
    state: JobState,
  })
  .loose();
export type InferenceJob = z.infer<typeof InferenceJob>;

export const JobList = z.array(InferenceJob);

export const Score = z.object({ name: z.string(), score: z.number() }).loose();
export type Score = z.infer<typeof Score>;
const Interval = z.object({ begin: z.number(), end: z.number() }).loose();
const TranscriptionMetadata = z
  .object({ confidence: z.number().nullish(), detected_language: z.string().nullish() })
  .loose();

const grouped = <P extends z.ZodType>(prediction: P) =>
  z
    .object({
      metadata: TranscriptionMetadata.nullish(),
      grouped_predictions: z.array(z.object({ id: z.string(), predictions: z.array(prediction) }).loose()),
    })
    .loose();

export const FacePrediction = z
  .object({
    frame: z.number(),
    time: z.number(),
    prob: z.number(),
    box: z.object({ x: z.number(), y: z.number(), w: z.number(), h: z.number() }).loose(),
    emotions: z.array(Score),
    facs: z.array(Score).nullish(),
    descriptions: z.array(Score).nullish(),
  })
  .loose();
export const BurstPrediction = z
  .object({ time: Interval, emotions: z.array(Score), descriptions: z.array(Score) })
  .loose();
export const ProsodyPrediction = z
  .object({
    text: z.string().nullish(),
    time: Interval,
    confidence: z.number().nullish(),
    speaker_confidence: z.number().nullish(),
    emotions: z.array(Score),
  })
  .loose();
export const LanguagePrediction = z
  .object({
    text: z.string(),
    position: Interval,
    time: Interval.nullish(),
    confidence: z.number().nullish(),
    speaker_confidence: z.number().nullish(),
    emotions: z.array(Score),
    sentiment: z.array(Score).nullish(),
    toxicity: z.array(Score).nullish(),
  })
  .loose();
export const NerPrediction = z
  .object({
    entity: z.string(),
    position: Interval,
    entity_confidence: z.number(),
    support: z.number(),
    uri: z.string(),
    link_word: z.string(),
    time: Interval.nullish(),
    confidence: z.number().nullish(),
    speaker_confidence: z.number().nullish(),
    emotions: z.array(Score),
  })
  .loose();
export const FacemeshPrediction = z.object({ emotions: z.array(Score) }).loose();

export const ModelsPredictions = z
  .object({
    face: grouped(FacePrediction).nullish(),
    burst: grouped(BurstPrediction).nullish(),
    prosody: grouped(ProsodyPrediction).nullish(),
    language: grouped(LanguagePrediction).nullish(),
    ner: grouped(NerPrediction).nullish(),
    facemesh: grouped(FacemeshPrediction).nullish(),
  })
  .loose();
export type ModelsPredictions = z.infer<typeof ModelsPredictions>;

export const InferencePrediction = z
  .object({ file: z.string(), file_type: z.string().nullish(), models: ModelsPredictions })
  .loose();

export const PerFileError = z.object({ message: z.string(), file: z.string().nullish() }).loose();

export const Source = z.union([
  z.discriminatedUnion('type', [
    z.object({ type: z.literal('url'), url: z.string() }).loose(),
    z
      .object({
        type: z.literal('file'),
        filename: z.string().nullish(),
        content_type: z.string().nullish(),
        md5sum: z.string().nullish(),
      })
      .loose(),
    z.object({ type: z.literal('text') }).loose(),
  ]),
  z.object({ type: z.string() }).loose(),
]);
export type Source = z.infer<typeof Source>;

export const SourcePredictResult = z
  .object({
    source: Source,
    results: z.object({ predictions: z.array(InferencePrediction), errors: z.array(PerFileError) }).loose().nullish(),
    error: z.string().nullish(),
  })
  .loose();
export type SourcePredictResult = z.infer<typeof SourcePredictResult>;

export const Predictions = z.array(SourcePredictResult);
export type Predictions = z.infer<typeof Predictions>;

/**
 * Predictions down to what says which source is which and whether it produced anything: parsing
 * a job's predictions this way keeps no deep copy of every score (they are validated row by row
 * when the CSVs are written).
 */
export const PredictionsOutline = z.array(
  z
    .object({
      source: Source,
      results: z.object({ predictions: z.array(z.unknown()), errors: z.array(PerFileError) }).loose().nullish(),
      error: z.string().nullish(),
    })
    .loose(),
);
export type PredictionsOutline = z.infer<typeof PredictionsOutline>;

/** Body of the callback Hume POSTs to `callback_url`. Only `job_id` and `status` are relied on. */
export const CallbackBody = z
  .object({
    job_id: z.string().min(1),
    status: openEnum(JOB_STATUSES),
    predictions: z.array(z.unknown()).nullish(),
    message: z.string().nullish(),
  })
  .loose();
export type CallbackBody = z.infer<typeof CallbackBody>;

/** Error bodies seen from Hume: `{message}`, Apigee `{fault: {faultstring}}`, or anything else. */
export const ErrorBody = z.union([
  z.object({ message: z.string() }).loose(),
  z.object({ fault: z.object({ faultstring: z.string() }).loose() }).loose(),
]);
