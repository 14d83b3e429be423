/**
 * Streams a completed job's predictions (and artifacts) into its result folder and summarises
 * them: counts per source and per-file errors travel back, never the predictions themselves.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HumeClient } from '../hume/client.js';
import { Predictions, type SourcePredictResult } from '../hume/schemas.js';
import type { SourceSummary, StoredResults } from '../schemas/humeJob.js';
import { humeCall } from './failures.js';
import { whileHeartbeating } from './heartbeat.js';

const MAX_FILE_ERRORS_IN_RESULT = 100;

export interface FetchResultsInput {
  jobId: string;
  resultDir: string;
  artifacts?: boolean;
}

export function createFetchResults(hume: HumeClient) {
  return async function humeFetchResults({ jobId, resultDir, artifacts }: FetchResultsInput): Promise<StoredResults> {
    await mkdir(resultDir, { recursive: true });
    return whileHeartbeating(async (signal) => {
      const predictions = await humeCall(() => hume.downloadPredictions(jobId, join(resultDir, 'predictions.json'), { signal }));
      const zip = artifacts
        ? await humeCall(() => hume.downloadArtifacts(jobId, join(resultDir, 'artifacts.zip'), { signal }))
        : undefined;
      // One job's predictions are bounded by Hume's per-job limits, so parsing them whole is fine.
      const parsed = Predictions.parse(JSON.parse(await readFile(predictions.path, 'utf8')));
      return {
        predictionsPath: predictions.path,
        predictionsSha256: predictions.sha256,
        predictionsBytes: predictions.bytes,
        ...(zip ? { artifactsPath: zip.path, artifactsSha256: zip.sha256 } : {}),
        ...summarise(parsed),
      };
    });
  };
}

function sourceLabel(result: SourcePredictResult, textIndex: number): string {
  const source = result.source as Record<string, unknown>;
  if (source.type === 'url') return `url:${String(source.url)}`;
  if (source.type === 'file') return `file:${String(source.filename ?? source.md5sum)}`;
  if (source.type === 'text') return `text:${textIndex}`;
  return String(source.type);
}

export function summarise(predictions: Predictions): Pick<StoredResults, 'sources' | 'fileErrors' | 'fileErrorCount'> {
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
