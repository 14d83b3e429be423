/**
 * Streams a completed job's predictions (and artifacts) into its result folder and summarises
 * them: counts per source and per-file errors travel back, never the predictions themselves.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { HumeClient } from '../hume/client.js';
import { type JobConfig, PredictionsOutline } from '../hume/schemas.js';
import { ARTIFACTS_ZIP, jobDir, PREDICTIONS_JSON } from '../results/layout.js';
import { mapSourcesToItems } from '../results/mapping.js';
import { writeBatchOutcome } from '../results/outcome.js';
import type { BatchSource, SourceSummary, StoredResults } from '../schemas/humeJob.js';
import { loadBatch } from './batch-items.js';
import { humeCall } from './failures.js';
import { whileHeartbeating } from './heartbeat.js';

const MAX_FILE_ERRORS_IN_RESULT = 100;

export interface FetchResultsInput {
  jobId: string;
  /** Where to write; for a batch, `<run>/jobs/<batch>-<job id>` is used instead. */
  resultDir?: string;
  artifacts?: boolean;
  /** The batch this job ran, so each item's outcome is recorded beside its predictions. */
  batch?: BatchSource;
  config?: JobConfig;
}

export function createFetchResults(hume: HumeClient) {
  return async function humeFetchResults({ jobId, resultDir: given, artifacts, batch, config }: FetchResultsInput): Promise<StoredResults> {
    const resultDir = batch ? join(batch.runDir, jobDir(batch.range.index, jobId)) : given;
    if (!resultDir) throw ApplicationFailure.nonRetryable('humeFetchResults needs a resultDir or a batch', 'INVALID_INPUT');
    await mkdir(resultDir, { recursive: true });
    return whileHeartbeating(async (signal) => {
      const predictions = await humeCall(() => hume.downloadPredictions(jobId, join(resultDir, PREDICTIONS_JSON), { signal }));
      const zip = artifacts
        ? await humeCall(() => hume.downloadArtifacts(jobId, join(resultDir, ARTIFACTS_ZIP), { signal }))
        : undefined;
      // One job's predictions are bounded by Hume's per-job limits, so parsing them whole is fine.
      const parsed = PredictionsOutline.parse(JSON.parse(await readFile(predictions.path, 'utf8')));
      let batchItems: StoredResults['batchItems'];
      if (batch) {
        const items = mapSourcesToItems(parsed, await loadBatch(batch, config ?? {}));
        const completed = items.filter((item) => item.status === 'completed').length;
        batchItems = { completed, failed: items.length - completed };
        await writeBatchOutcome(batch.runDir, {
          batch: batch.range.index,
          jobId,
          status: 'COMPLETED',
          predictionsPath: relative(batch.runDir, predictions.path),
          items,
        });
      }
      return {
        predictionsPath: predictions.path,
        predictionsSha256: predictions.sha256,
        predictionsBytes: predictions.bytes,
        ...(zip ? { artifactsPath: zip.path, artifactsSha256: zip.sha256 } : {}),
        ...(batchItems ? { batchItems } : {}),
        ...summarise(parsed),
      };
    });
  };
}

function sourceLabel(result: PredictionsOutline[number], textIndex: number): string {
  const source = result.source as Record<string, unknown>;
  if (source.type === 'url') return `url:${String(source.url)}`;
  if (source.type === 'file') return `file:${String(source.filename ?? source.md5sum)}`;
  if (source.type === 'text') return `text:${textIndex}`;
  return String(source.type);
}

export function summarise(predictions: PredictionsOutline): Pick<StoredResults, 'sources' | 'fileErrors' | 'fileErrorCount'> {
  const sources: SourceSummary[] = [];
  const fileErrors: StoredResults['fileErrors'] = [];
  let fileErrorCount = 0;
  let textIndex = 0;
  for (const result of predictions) {
    const label = sourceLabel(result, textIndex);
    if (result.source.type === 'text') textIndex++;
    const errors = result.results?.errors ?? [];
    fileErrorCount += errors.length;
    for (const e of errors) {
      if (fileErrors.length < MAX_FILE_ERRORS_IN_RESULT) fileErrors.push({ source: label, file: e.file ?? '', message: e.message });
    }
    sources.push({
      source: label,
      predictions: result.results?.predictions.length ?? 0,
      errors: errors.length,
      ...(result.error ? { error: result.error } : {}),
    });
  }
  return { sources, fileErrors, fileErrorCount };
}

export interface RecordBatchFailureInput {
  batch: BatchSource;
  config?: JobConfig;
  jobIds: string[];
  error: string;
}

/** A batch that will not complete still leaves an outcome, so the run's index names every item. */
export async function humeRecordBatchFailure({ batch, config, jobIds, error }: RecordBatchFailureInput): Promise<void> {
  const items = await loadBatch(batch, config ?? {}).catch(() => []);
  await writeBatchOutcome(batch.runDir, {
    batch: batch.range.index,
    jobId: jobIds.at(-1),
    status: 'FAILED',
    error,
    items: items.map((item) => ({ line: item.line, id: item.id, status: 'failed' as const, error })),
  });
}
