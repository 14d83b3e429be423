/**
 * `run`'s flags → the humeBatch input, parsed by the same zod schema the run parses at start, so
 * `--dry-run` refuses exactly what a real run would, in one line naming the flag.
 */
import { InvalidArgumentError } from 'commander';
import type { z } from 'zod';
import type { JobConfig } from '../hume/schemas.js';
import type { ManifestFormat } from '../schemas/batch.js';
import { HumeBatchInput } from '../schemas/inputs.js';
import { usageError } from './errors.js';

/** The run flags that become input fields (commander's camelCase names). */
export interface RunInputFlags {
  format?: ManifestFormat;
  out: string;
  runId?: string;
  skipInvalid?: boolean;
  maxJobsInFlight?: number;
  maxJobAttempts?: number;
  maxFailedPercent?: number;
  textsPerJob?: number;
  urlsPerJob?: number;
  filesPerJob?: number;
  firstPollAfter?: string;
  maxPollInterval?: string;
  maxJobDuration?: string;
  pauseAfterFailedBatches?: number;
  artifacts?: boolean;
  searchAttributes?: boolean;
  onCancel?: 'wait' | 'abandon';
}

/** Each input field the flags set, by its path in HumeBatchInput, and the flag that sets it. */
const FLAG_OF: Record<string, string> = {
  runId: '--run-id',
  outDir: '--out',
  manifest: '<manifest>',
  'manifest.path': '<manifest>',
  'manifest.format': '--format',
  config: '--models',
  maxJobsInFlight: '--max-jobs-in-flight',
  maxJobAttempts: '--max-job-attempts',
  maxFailedItemsPercent: '--max-failed-percent',
  'limits.maxTextsPerJob': '--texts-per-job',
  'limits.maxUrlsPerJob': '--urls-per-job',
  'limits.maxFilesPerJob': '--files-per-job',
  'polling.firstPollAfter': '--first-poll-after',
  'polling.maxInterval': '--max-poll-interval',
  maxJobDuration: '--max-job-duration',
  pauseAfterFailedBatches: '--pause-after-failed-batches',
  onCancel: '--on-cancel',
};

/** A number as typed: commander refuses what is not one; the schema judges its range, so the message names the limit. */
export const numberArg = (value: string): number => {
  const n = value.trim() === '' ? Number.NaN : Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('must be a number');
  return n;
};

export const integerArg = (value: string): number => {
  const n = numberArg(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('must be an integer');
  return n;
};

/** A Temporal duration as typed: plain digits are milliseconds, anything else a string such as '30 seconds'. */
const duration = (value: string | undefined): string | number | undefined =>
  value === undefined ? undefined : /^\d+$/.test(value.trim()) ? Number(value) : value;

const defined = <T extends object>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/** The input a run starts with; throws a usage error (exit 2) naming the flag when the schema refuses it. */
export function buildRunInput(manifestPath: string, config: JobConfig, flags: RunInputFlags, runId: string | undefined): HumeBatchInput {
  const limits = defined({ maxTextsPerJob: flags.textsPerJob, maxUrlsPerJob: flags.urlsPerJob, maxFilesPerJob: flags.filesPerJob });
  const polling = defined({ firstPollAfter: duration(flags.firstPollAfter), maxInterval: duration(flags.maxPollInterval) });
  const input: HumeBatchInput = {
    ...defined({
      runId,
      skipInvalid: flags.skipInvalid || undefined,
      maxJobsInFlight: flags.maxJobsInFlight,
      maxJobAttempts: flags.maxJobAttempts,
      maxFailedItemsPercent: flags.maxFailedPercent,
      maxJobDuration: duration(flags.maxJobDuration),
      pauseAfterFailedBatches: flags.pauseAfterFailedBatches,
      artifacts: flags.artifacts || undefined,
      searchAttributes: flags.searchAttributes || undefined,
      onCancel: flags.onCancel,
    }),
    outDir: flags.out,
    manifest: { path: manifestPath, ...(flags.format ? { format: flags.format } : {}) },
    config,
    ...(Object.keys(limits).length > 0 ? { limits } : {}),
    ...(Object.keys(polling).length > 0 ? { polling } : {}),
  };
  const parsed = HumeBatchInput.safeParse(input);
  if (!parsed.success) throw usageError(describeFlagIssues(parsed.error));
  return input;
}

/** `invalid --max-jobs-in-flight: Too big: expected number to be <=500; invalid --run-id: …` on one line. */
export function describeFlagIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String);
      const flag = FLAG_OF[path.join('.')] ?? FLAG_OF[path[0] ?? ''] ?? path.join('.');
      const message = issue.code === 'invalid_type' && issue.expected === 'number' ? 'not a number' : issue.message;
      return flag ? `invalid ${flag}: ${message}` : `invalid run: ${message}`;
    })
    .join('; ');
}
