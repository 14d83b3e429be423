/**
 * Streams a completed job's predictions (and artifacts) into its result folder, then reads the
 * predictions once, as a stream: for a batch that pass maps Hume's sources to the batch's items,
 * writes the job's rows as shards (shards.ts) and the batch's outcome. Only counts, paths and
 * hashes travel back: no item's URL, text or file name, and no per-file error message (they may
 * name files), which stay in predictions.json and the outcome on disk.
 */
import { createHash } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { DownloadResult, HumeClient } from '../hume/client.js';
import { sha256Of } from '../hume/download.js';
import { RequestLimiterBusy } from '../hume/rate-limit.js';
import type { JobConfig } from '../hume/schemas.js';
import { ARTIFACTS_ZIP, jobDir, PREDICTIONS_JSON } from '../results/layout.js';
import { outcomeItems, SourceMatcher, type SourceReturn } from '../results/mapping.js';
import { writeBatchOutcome } from '../results/outcome.js';
import { InvalidPredictionsError } from '../results/prediction-stream.js';
import { countPredictions, writeShards } from '../results/shards.js';
import type { BatchSource, PredictionCounts, StoredResults } from '../schemas/humeJob.js';
import { createFsStore } from '../store/fs.js';
import { resolveLocation } from '../store/location.js';
import { fileOf, type Storage, type StoredFile } from '../store/storage.js';
import type { ResultStore } from '../store/store.js';
import { loadBatch } from './batch-items.js';
import { humeCall } from './failures.js';
import { whileHeartbeating } from './heartbeat.js';
import { handedOver, IN_TASK_SLOT_WAIT_MS } from './in-task.js';
import { FAILURE_TYPES, FETCH_HANDED_OVER } from '../workflows/definitions.js';

export interface FetchResultsInput {
  jobId: string;
  /** Where to write; for a batch, `<run>/jobs/<batch>-<job id>` is used instead. */
  resultDir?: string;
  artifacts?: boolean;
  /** The batch this job ran, so each item's outcome is recorded beside its predictions. */
  batch?: BatchSource;
  config?: JobConfig;
}

export function createFetchResults(hume: HumeClient, storage: Storage) {
  return async function humeFetchResults({ jobId, resultDir: given, artifacts, batch, config }: FetchResultsInput): Promise<StoredResults> {
    const resultDir = batch ? resolveLocation(batch.runDir, jobDir(batch.range.index, jobId)) : given;
    if (!resultDir) throw ApplicationFailure.nonRetryable('humeFetchResults needs a resultDir or a batch', FAILURE_TYPES.invalidInput);
    const store = storage.folder(resultDir);
    // Inside a workflow task a fetch waits for a slot only briefly (then hands it to the scheduled
    // fetch) and keeps no partial download: it has no heartbeat to resume from.
    const local = Context.current().info.isLocal;
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
        maxWaitMs: local ? IN_TASK_SLOT_WAIT_MS : undefined,
      });
      const scratch = new Scratch(resultDir, local);
      let predictions: Fetched;
      let zip: Fetched | undefined;
      let counts: PredictionCounts;
      let batchItems: StoredResults['batchItems'];
      try {
        predictions = await fetched(store, scratch, PREDICTIONS_JSON, (dest) => hume.downloadPredictions(jobId, dest, download('predictionsBytes')));
        zip = artifacts ? await fetched(store, scratch, ARTIFACTS_ZIP, (dest) => hume.downloadArtifacts(jobId, dest, download('artifactsBytes'))) : undefined;
        if (batch) ({ counts, batchItems } = await shardBatch(storage, batch, config ?? {}, jobId, predictions.file, signal));
        else counts = await countPredictions(predictions.file, signal);
      } catch (err) {
        // Fetching the same bytes again would fail the same way.
        if (err instanceof InvalidPredictionsError) throw ApplicationFailure.nonRetryable(err.message, FAILURE_TYPES.invalidPredictions);
        if (err instanceof RequestLimiterBusy) throw handedOver(`handed to the scheduled fetch: ${err.message}`, FETCH_HANDED_OVER);
        throw err;
      } finally {
        // Once in the store, a scratch copy is worth nothing; a cut download is kept to resume here.
        if (!scratch.resumable || local) await scratch.remove();
      }
      return {
        predictionsPath: predictions.location,
        predictionsSha256: predictions.sha256,
        predictionsBytes: predictions.bytes,
        ...(zip ? { artifactsPath: zip.location, artifactsSha256: zip.sha256 } : {}),
        counts,
        ...(batchItems ? { batchItems } : {}),
      };
    });
  };
}

interface Fetched {
  location: string;
  bytes: number;
  sha256: string;
  /** Where to read it back from: the local copy when there is one. */
  file: StoredFile;
}

/**
 * A job's file in the store, downloaded unless it is there already: files are put in place whole
 * and a job's results never change, so an attempt that failed after its download does not
 * download it again. A store off this machine (S3) gets the file through a local scratch copy,
 * where the download resumes as it does in place, then as one upload.
 */
async function fetched(store: ResultStore, scratch: Scratch, name: string, get: (dest: string) => Promise<DownloadResult>): Promise<Fetched> {
  const location = store.resolve(name);
  const size = await store.size(name);
  if (size !== undefined) {
    const file = fileOf(store, name);
    return { location, bytes: size, sha256: await sha256Of(file.read()), file };
  }
  const local = store.localPath(name);
  const dest = local ?? (await scratch.path(name));
  const copy = fileOf(createFsStore(dirname(dest)), basename(dest));
  // A scratch copy is renamed into place only once complete: an attempt that died before its upload left it whole.
  const whole = local ? undefined : await copy.size();
  let result: Pick<DownloadResult, 'bytes' | 'sha256'>;
  if (whole !== undefined) {
    result = { bytes: whole, sha256: await sha256Of(copy.read()) };
  } else {
    try {
      result = await humeCall(() => get(dest));
    } catch (err) {
      scratch.resumable = true;
      throw err;
    }
  }
  if (!local) await store.putFile(name, dest);
  return { location, bytes: result.bytes, sha256: result.sha256, file: copy };
}

/** Where `Scratch` keeps the downloads of the job writing to `resultDir`. */
export function scratchFolder(resultDir: string, local: boolean): string {
  const name = createHash('sha256').update(resultDir).digest('hex').slice(0, 32);
  return join(tmpdir(), 'temporal-hume', 'fetch', local ? `${name}-local` : name);
}

/**
 * This machine's temporary folder for one job's downloads: the same on every attempt here, so a
 * download resumes. A local attempt has one of its own: it may still be stopping while the
 * scheduled fetch it handed over to starts here.
 */
class Scratch {
  readonly #dir: string;
  /** A download was cut: its partial copy stays for the next attempt on this machine. */
  resumable = false;

  constructor(resultDir: string, local: boolean) {
    this.#dir = scratchFolder(resultDir, local);
  }

  async path(name: string): Promise<string> {
    await mkdir(this.#dir, { recursive: true });
    return join(this.#dir, name);
  }

  remove(): Promise<void> {
    return rm(this.#dir, { recursive: true, force: true });
  }
}

/** The one pass over a batch job's predictions: its shards, then its outcome. */
async function shardBatch(storage: Storage, batch: BatchSource, config: JobConfig, jobId: string, predictions: StoredFile, signal: AbortSignal) {
  const items = await loadBatch(storage, batch, config);
  const store = storage.folder(batch.runDir);
  const matcher = new SourceMatcher(items);
  const claimed = new Map<number, { sourceIndex: number } & SourceReturn>();
  const folder = jobDir(batch.range.index, jobId);
  const shard = await writeShards(store, folder, predictions, {
    jobId,
    claim: (_, source) => matcher.claim(source),
    onSourceEnd: (end, item) => {
      if (item) claimed.set(item.line, { sourceIndex: end.index, ...end });
    },
    signal,
  });
  const outcome = outcomeItems(items, claimed);
  const completed = outcome.filter((item) => item.status === 'completed').length;
  await writeBatchOutcome(store, {
    batch: batch.range.index,
    jobId,
    status: 'COMPLETED',
    predictionsPath: `${folder}/${PREDICTIONS_JSON}`,
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
export function createRecordBatchFailure(storage: Storage) {
  return async function humeRecordBatchFailure({ batch, config, jobIds, error }: RecordBatchFailureInput): Promise<void> {
    const items = await loadBatch(storage, batch, config ?? {}).catch(() => []);
    await writeBatchOutcome(storage.folder(batch.runDir), {
    batch: batch.range.index,
    jobId: jobIds.at(-1),
    status: 'FAILED',
    error,
      items: items.map((item) => ({ line: item.line, id: item.id, status: 'failed' as const, error })),
    });
  };
}
