/**
 * Streams a completed job's predictions (and artifacts) into its result folder, then reads the
 * predictions once, as a stream: for a batch that pass maps Hume's sources to the batch's items,
 * writes the job's rows as shards (shards.ts) and the batch's outcome. Only counts, paths and
 * hashes travel back: no item's URL, text or file name, and no per-file error message (they may
 * name files), which stay in predictions.json and the outcome on disk.
 */
import { mkdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { DownloadResult, HumeClient } from '../hume/client.js';
import { sha256OfFile } from '../hume/download.js';
import type { JobConfig } from '../hume/schemas.js';
import { ARTIFACTS_ZIP, jobDir, PREDICTIONS_JSON } from '../results/layout.js';
import { outcomeItems, SourceMatcher, type SourceReturn } from '../results/mapping.js';
import { writeBatchOutcome } from '../results/outcome.js';
import { InvalidPredictionsError } from '../results/prediction-stream.js';
import { countPredictions, writeShards } from '../results/shards.js';
import type { BatchSource, PredictionCounts, StoredResults } from '../schemas/humeJob.js';
import { createFsStore } from '../store/fs.js';
import { loadBatch } from './batch-items.js';
import { humeCall } from './failures.js';
import { whileHeartbeating } from './heartbeat.js';

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
    return whileHeartbeating(async (signal, progress) => {
      // Byte counts only: a retried attempt resumes each download where the last heartbeat left it.
      const transferred = { predictionsBytes: progress.previous?.predictionsBytes ?? 0, artifactsBytes: progress.previous?.artifactsBytes ?? 0 };
      const download = (what: keyof typeof transferred) => ({
        signal,
        onProgress: (bytes: number) => {
          transferred[what] = bytes;
          progress.report(transferred);
        },
        resumeFromBytes: progress.previous?.[what],
      });
      // A file in place is complete (downloads are renamed into place whole, and a job's results
      // never change): an attempt that failed after its download does not download it again.
      const fetched = async (path: string, get: () => Promise<DownloadResult>): Promise<DownloadResult> => {
        const size = await stat(path).then((s) => s.size, () => undefined);
        return size === undefined ? humeCall(get) : { path, bytes: size, sha256: await sha256OfFile(path) };
      };
      const predictionsPath = join(resultDir, PREDICTIONS_JSON);
      const predictions = await fetched(predictionsPath, () => hume.downloadPredictions(jobId, predictionsPath, download('predictionsBytes')));
      const artifactsPath = join(resultDir, ARTIFACTS_ZIP);
      const zip = artifacts ? await fetched(artifactsPath, () => hume.downloadArtifacts(jobId, artifactsPath, download('artifactsBytes'))) : undefined;
      let counts: PredictionCounts;
      let batchItems: StoredResults['batchItems'];
      try {
        if (batch) ({ counts, batchItems } = await shardBatch(batch, config ?? {}, jobId, predictions.path, signal));
        else counts = await countPredictions(predictions.path, signal);
      } catch (err) {
        // Fetching the same bytes again would fail the same way.
        if (err instanceof InvalidPredictionsError) throw ApplicationFailure.nonRetryable(err.message, 'INVALID_PREDICTIONS');
        throw err;
      }
      return {
        predictionsPath: predictions.path,
        predictionsSha256: predictions.sha256,
        predictionsBytes: predictions.bytes,
        ...(zip ? { artifactsPath: zip.path, artifactsSha256: zip.sha256 } : {}),
        counts,
        ...(batchItems ? { batchItems } : {}),
      };
    });
  };
}

/** The one pass over a batch job's predictions: its shards, then its outcome. */
async function shardBatch(batch: BatchSource, config: JobConfig, jobId: string, predictionsPath: string, signal: AbortSignal) {
  const items = await loadBatch(batch, config);
  const store = createFsStore(batch.runDir);
  const matcher = new SourceMatcher(items);
  const claimed = new Map<number, { sourceIndex: number } & SourceReturn>();
  const shard = await writeShards(store, jobDir(batch.range.index, jobId), relative(batch.runDir, predictionsPath), {
    jobId,
    claim: (_, source) => matcher.claim(source),
    onSourceEnd: (end, item) => {
      if (item) claimed.set(item.line, { sourceIndex: end.index, ...end });
    },
    signal,
  });
  const outcome = outcomeItems(items, claimed);
  const completed = outcome.filter((item) => item.status === 'completed').length;
  await writeBatchOutcome(batch.runDir, {
    batch: batch.range.index,
    jobId,
    status: 'COMPLETED',
    predictionsPath: relative(batch.runDir, predictionsPath),
    items: outcome,
  });
  return { counts: shard.counts, batchItems: { completed, failed: outcome.length - completed } };
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
