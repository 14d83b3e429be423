/**
 * Input and result of the `humeJob` workflow: one Hume job, done durably.
 * Schema first; the workflow imports only the inferred types, the activities and client helpers
 * parse with the schemas so bad input is refused with the field named, before anything is sent.
 */
import { msToNumber } from '@temporalio/common';
import { z } from 'zod';
import type { JobConfig } from '../hume/schemas.js';
import { HUME_LIMITS } from '../hume/limits.js';
import type { BatchRange, ManifestRef } from './batch.js';

/** A Temporal duration: milliseconds or a string such as '3 minutes'. */
export const Duration = z.union([
  z.number().int().positive(),
  z.string().refine((value) => {
    try {
      return msToNumber(value) > 0;
    } catch {
      return false;
    }
  }, "a duration such as '30 seconds' or '3 minutes'"),
]);

export const LocalFile = z.object({
  path: z.string().min(1),
  /** Name Hume reports back in predictions. @default the file's basename */
  filename: z.string().min(1).optional(),
  contentType: z.string().min(1).optional(),
});
export type LocalFile = z.infer<typeof LocalFile>;

export const PollingOptions = z.object({
  /** Silence after which the job is polled although a callback may still come. @default '3 minutes' with callbacks, '5 seconds' without */
  firstPollAfter: Duration.optional(),
  /** Growth of the silence between polls. @default 2 */
  backoffCoefficient: z.number().min(1).max(10).optional(),
  /** Longest silence between polls. @default '10 minutes' with callbacks, '1 minute' without */
  maxInterval: Duration.optional(),
});
export type PollingOptions = z.infer<typeof PollingOptions>;

/**
 * A batch of a `humeBatch` run: a range of the run's manifest, re-read at submit. Only the range
 * and its hash travel through history, never the items.
 */
export const BatchSource = z.object({
  runDir: z.string().min(1),
  manifest: z.custom<ManifestRef>((v) => typeof v === 'object' && v !== null && 'sha256' in v, 'a planned manifest'),
  range: z.custom<BatchRange>((v) => typeof v === 'object' && v !== null && 'sliceSha256' in v, 'a planned batch range'),
  allowedRoot: z.string().min(1).optional(),
  /** The run's first run id: with the job's workflow id it names the job's submissions, so a redrive never adopts another run's jobs. */
  runChainId: z.string().min(1).optional(),
});
export type BatchSource = z.infer<typeof BatchSource>;

/**
 * The job input's schema around a schema for its Hume model config: the whole one (`HumeJobInput`
 * in inputs.ts, for clients and activities) or `anyJobConfig` (`HumeJobEntry`, what the workflow
 * checks at entry).
 */
export function humeJobInputSchema<C extends z.ZodType<JobConfig, unknown>>(config: C) {
  return z
  .object({
    /** Instead of texts/urls/files: a planned batch of a run's manifest. */
    batch: BatchSource.optional(),
    texts: z.array(z.string().min(1, 'empty text')).max(HUME_LIMITS.maxTextsPerJob).optional(),
    urls: z.array(z.url({ protocol: /^https?$/ })).max(HUME_LIMITS.maxUrlsPerJob).optional(),
    files: z.array(LocalFile).max(HUME_LIMITS.maxFilesPerJob).optional(),
    /** Models and transcription, as Hume takes them. */
    config: config.default({} as Exclude<z.output<C>, undefined>),
    /** Folder the predictions (and artifacts) are written to; created if missing. For a batch: `<run>/jobs/<batch>-<job id>`. */
    resultDir: z.string().min(1).optional(),
    /** Also download the artifacts zip. @default false */
    artifacts: z.boolean().optional(),
    /** Hume jobs to try when one ends FAILED (a new job each time). @default 3 */
    maxJobAttempts: z.number().int().min(1).max(20).optional(),
    polling: PollingOptions.optional(),
    /** A Hume job still QUEUED or IN_PROGRESS after this long counts as FAILED (and is resubmitted). @default '24 hours' */
    maxJobDuration: Duration.optional(),
    /** Wait before resubmitting a FAILED job, doubled for each further attempt (at most 10 minutes), with jitter. @default '30 seconds' */
    resubmitDelay: Duration.optional(),
    /** Set the HumeJobIds search attribute (registered on the server first). @default false */
    searchAttributes: z.boolean().optional(),
  })
  .superRefine((input, ctx) => {
    const inline = (input.texts?.length ?? 0) + (input.urls?.length ?? 0) + (input.files?.length ?? 0);
    if (input.batch && inline > 0) ctx.addIssue({ code: 'custom', message: 'give either batch or texts/urls/files, not both' });
    else if (!input.batch && inline === 0) ctx.addIssue({ code: 'custom', message: 'a job needs at least one text, url or file' });
    if (!input.batch && !input.resultDir) ctx.addIssue({ code: 'custom', path: ['resultDir'], message: 'required' });
  });
}
export type { HumeJobInput } from './inputs.js';

/**
 * A Hume model config seen from a workflow: an object, checked whole by the activities that send
 * it (plan, submit). The workflow bundle builds its modules for every execution, and Hume's
 * schemas cost ~24 ms of CPU to build, most of a job's workflow CPU (BENCHMARKS.md, issue 15).
 */
export const anyJobConfig = z.custom<JobConfig>((value) => typeof value === 'object' && value !== null && !Array.isArray(value), 'an object: the Hume model config');

/** What `humeJob` checks at entry: every field it reads, the model config as an object. */
export const HumeJobEntry = humeJobInputSchema(anyJobConfig);

const count = z.number().int().min(0);

/** A job's predictions in counts. */
export const PredictionCounts = z.object({
  sources: count,
  /** Sources that came back with at least one predicted file. */
  sourcesWithPredictions: count,
  /** Sources that failed whole (Hume's source-level `error`). */
  sourcesFailed: count,
  /** Innermost predictions (a face in a frame, a word, …): one CSV row each. */
  predictions: count,
  /** Hume's per-file errors inside the job's sources. */
  predictionErrors: count,
});
export type PredictionCounts = z.infer<typeof PredictionCounts>;

/**
 * Where a job's results were stored, in counts, paths and hashes only: activity results are
 * recorded in history, so no source's URL, text or file name and no per-file error message (which
 * may name a file) appear here; they stay in predictions.json (and a batch's outcome) on disk.
 */
export const StoredResults = z.object({
  predictionsPath: z.string(),
  predictionsSha256: z.string(),
  predictionsBytes: z.number(),
  artifactsPath: z.string().optional(),
  artifactsSha256: z.string().optional(),
  counts: PredictionCounts,
  /** For a batch: its items by outcome. */
  batchItems: z.object({ completed: z.number(), failed: z.number() }).optional(),
});
export type StoredResults = z.infer<typeof StoredResults>;

export interface HumeJobResult extends StoredResults {
  jobId: string;
  status: 'COMPLETED';
  /** Every Hume job this run created, in order; the last one completed. */
  jobIds: string[];
  attempts: number;
  timings: {
    startedAt: number;
    submittedAt: number;
    humeCreatedMs?: number;
    humeStartedMs?: number;
    humeEndedMs?: number;
    finishedAt: number;
  };
}
