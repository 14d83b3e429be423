/**
 * The batch run's contracts: manifest items, the plan (batches as manifest byte/line ranges), and
 * what each batch leaves in the results folder. Item contents never travel through history:
 * batches carry ranges plus a sha256 of their slice, and submit re-reads the slice.
 */
import { z } from 'zod';
import type { JobConfig } from '../hume/schemas.js';
import { anyJobConfig, Duration, PollingOptions } from './humeJob.js';

export const MANIFEST_FORMATS = ['jsonl', 'csv'] as const;
export type ManifestFormat = (typeof MANIFEST_FORMATS)[number];

/** One manifest line: exactly one of `url`, `file`, `text`. Unknown keys are refused (typos). */
export const ManifestItem = z.strictObject({
  id: z.string().min(1).optional(),
  url: z.string().optional(),
  file: z.string().optional(),
  text: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type ManifestItem = z.infer<typeof ManifestItem>;

export type SourceKind = 'url' | 'file' | 'text';

/** A valid item, as planning and submission see it. */
export interface ItemRecord {
  /** 1-based line (JSONL) or record start line (CSV) in the manifest. */
  line: number;
  /** The item's id, or `line-<n>` when the manifest gives none. */
  id: string;
  kind: SourceKind;
  /** The URL, the absolute file path, or the text. */
  value: string;
  /** File size or UTF-8 text size, bytes; 0 for URLs. */
  bytes: number;
  metadata?: Record<string, unknown>;
}

/** Why a line was refused: enough for a person to fix it. */
export interface InvalidLine {
  line: number;
  /** The offending field (`url`, `file`, `text`, `id`, `(line)` for unparseable lines). */
  field: string;
  /** The value, shortened to 200 characters. */
  value: string;
  /** The rule it broke, naming the limit where there is one. */
  rule: string;
}

/** An invalid line as history may carry it: without its value (an item's URL, path or text). */
export type InvalidLineRef = Omit<InvalidLine, 'value'>;

/** Per-request limits a run batches under: Hume's, or lower ones the run asks for. */
export const BatchLimits = z.object({
  maxUrlsPerJob: z.number().int().min(1).max(100),
  maxTextsPerJob: z.number().int().min(1).max(100),
  maxFilesPerJob: z.number().int().min(1).max(100),
  /** Total bytes of local files in one multipart request (Hume documents none; one upload should stay retryable). @default 500 MiB */
  maxUploadBytesPerJob: z.number().int().min(1),
  /** Total UTF-8 bytes of raw texts in one JSON request (Hume documents none; both ends hold a request whole). @default 256 MiB */
  maxTextBytesPerJob: z.number().int().min(1),
});
export type BatchLimits = z.infer<typeof BatchLimits>;

export const DEFAULT_BATCH_LIMITS: BatchLimits = {
  maxUrlsPerJob: 100,
  maxTextsPerJob: 100,
  maxFilesPerJob: 100,
  maxUploadBytesPerJob: 500 * 1024 * 1024,
  maxTextBytesPerJob: 256 * 1024 * 1024,
};

/** One Hume job's share of the manifest: a contiguous range plus a hash of its bytes. */
export interface BatchRange {
  index: number;
  fromLine: number;
  toLine: number;
  /** Byte offsets of the slice in the manifest: [start, end). */
  byteStart: number;
  byteEnd: number;
  /** sha256 of the slice, so a changed manifest is refused at submit. */
  sliceSha256: string;
  /** Valid items in the range (invalid lines inside it are skipped). */
  items: number;
  urls: number;
  texts: number;
  files: number;
  uploadBytes: number;
  /** Lines inside the range refused as duplicate ids (only the whole manifest shows that); loading skips them. */
  duplicateLines?: number[];
  /** Only these lines of the range: a redrive re-runs just the items that failed or never ran. */
  lines?: number[];
}

export interface ManifestRef {
  /** Absolute path of the manifest (inline items are written to `<run>/manifest.jsonl`). */
  path: string;
  format: ManifestFormat;
  sha256: string;
  /** CSV header line, needed to parse a slice on its own. */
  csvHeader?: string;
}

export interface PlanResult {
  manifest: ManifestRef;
  /** Lines that held an item (blank lines do not count). */
  items: number;
  validItems: number;
  invalidCount: number;
  /** Every invalid line up to 1,000, without values; the full list, values too, is in `<run>/invalid.jsonl`. */
  invalid: InvalidLineRef[];
  batches: number;
  uploadBytes: number;
  /** `<run>/plan.jsonl`: one BatchRange per line, read in pages by the workflow. */
  planPath: string;
}

/** What a finished batch leaves at `<run>/jobs/<batch>-<job_id>/outcome.json` (or `<batch>-failed`). */
export interface BatchOutcome {
  batch: number;
  jobId?: string;
  status: 'COMPLETED' | 'FAILED';
  error?: string;
  /** predictions.json, relative to the run folder. */
  predictionsPath?: string;
  /** Each valid item of the batch, in manifest order, with where its results are. */
  items: Array<{
    line: number;
    id: string;
    /** Index of this item's source in predictions.json, when Hume returned one. */
    sourceIndex?: number;
    status: 'completed' | 'failed';
    error?: string;
  }>;
}

/** The run input's schema around one for its model config, as `humeJobInputSchema`. */
export function humeBatchInputSchema<C extends z.ZodType<JobConfig, unknown>>(config: C) {
  return z
  .object({
    /** Names the results folder `<outDir>/<runId>`. @default the workflow id */
    runId: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash and underscore only').optional(),
    manifest: z.object({ path: z.string().min(1), format: z.enum(MANIFEST_FORMATS).optional() }).optional(),
    /** Inline items for small runs (they do travel through history). */
    items: z.array(ManifestItem).max(1_000).optional(),
    config: config.default({} as Exclude<z.output<C>, undefined>),
    outDir: z.string().min(1),
    /** Run the valid items and list the invalid ones, instead of refusing the run. @default false */
    skipInvalid: z.boolean().optional(),
    /** @default 100; never above Hume's 500 queued jobs */
    maxJobsInFlight: z.number().int().min(1).max(500).optional(),
    /** @default 3 */
    maxJobAttempts: z.number().int().min(1).max(20).optional(),
    /** The run ends failed when more items than this failed. @default 100 (never) */
    maxFailedItemsPercent: z.number().min(0).max(100).optional(),
    limits: BatchLimits.partial().optional(),
    artifacts: z.boolean().optional(),
    polling: PollingOptions.optional(),
    /** A Hume job still QUEUED or IN_PROGRESS after this long counts as FAILED. @default '24 hours' */
    maxJobDuration: Duration.optional(),
    /** Wait before resubmitting a FAILED job, doubled per attempt (at most 10 minutes). @default '30 seconds' */
    resubmitDelay: Duration.optional(),
    /** Pause the run by itself after this many batches failed in a row (0: never). Account-level failures (rejected key, usage limit, no credit) pause it at once. @default 5 */
    pauseAfterFailedBatches: z.number().int().min(0).optional(),
    /** Local files must resolve (symlinks too) inside this folder. */
    allowedRoot: z.string().min(1).optional(),
    /**
     * Re-run the failed and not-run items of the finished run `runId` in `outDir`, into the same
     * folder; the original run's settings apply, and no manifest or items are given.
     */
    redrive: z.boolean().optional(),
    /** Set the HumeRunId / HumeJobIds search attributes on the run and its jobs (registered on the server first). @default false */
    searchAttributes: z.boolean().optional(),
    /** On cancellation: let in-flight jobs finish (`wait`) or leave them (`abandon`). @default 'wait' */
    onCancel: z.enum(['wait', 'abandon']).optional(),
  })
  .refine((input) => (input.redrive ? !input.manifest && !input.items && !!input.runId : !!input.manifest !== !!input.items), {
    message: 'give exactly one of manifest or items (a redrive gives neither, and the runId to redrive)',
  });
}
export type { HumeBatchInput } from './inputs.js';

/** What `humeBatch` checks at entry; the plan activity checks the model config whole. */
export const HumeBatchEntry = humeBatchInputSchema(anyJobConfig);
