/**
 * One completed job's CSV rows: its predictions.json is read and parsed whole (a single job is
 * bounded by Hume's per-job limits) and dropped before the next job. Rows follow manifest line
 * order, then Hume's order within a source; each carries its item's id, line, source and metadata.
 * A source no item claimed keeps its rows, without item id, line or metadata, and with `source`
 * and `source_inner_path` as Hume named them.
 */
import { z } from 'zod';
import { SourcePredictResult } from '../hume/schemas.js';
import type { BatchOutcome, ItemRecord } from '../schemas/batch.js';
import type { ResultStore } from '../store/store.js';
import type { CsvFiles, InferencePrediction } from './csv-files.js';
import { sourceInnerPath } from './mapping.js';
import { flattenMetadata } from './metadata.js';
import { parseRecord } from './records.js';

const RawSources = z.array(z.unknown());

/**
 * Writes the job's rows for the items it speaks for (`owns`: a redrive may have completed some of
 * its failed items in another job); `items`: the batch's items by line. Returns the job's
 * prediction errors (Hume's per-file errors inside its sources).
 */
export async function writeJobRows(
  store: ResultStore,
  csv: CsvFiles,
  outcome: BatchOutcome,
  predictionsPath: string,
  items: ReadonlyMap<number, ItemRecord>,
  owns: (line: number) => boolean = () => true,
): Promise<number> {
  const where = store.resolve(predictionsPath);
  const raw = await store.readJson(predictionsPath);
  if (raw === undefined) throw new Error(`batch ${outcome.batch}: predictions missing at ${where}`);
  // Validated a source at a time, so only the raw JSON and one parsed source are held at once.
  const predictions = parseRecord(RawSources, raw, where);

  const owners = outcome.items
    .filter((item) => item.sourceIndex !== undefined && owns(item.line))
    .sort((a, b) => a.line - b.line)
    .map((owner) => ({ item: items.get(owner.line), sourceIndex: owner.sourceIndex as number }));
  const claimed = new Set(outcome.items.map((item) => item.sourceIndex));
  const unclaimed = predictions.flatMap((_, sourceIndex) => (claimed.has(sourceIndex) ? [] : [{ item: undefined, sourceIndex }]));

  const jobId = outcome.jobId ?? '';
  let predictionErrors = 0;
  for (const { item, sourceIndex } of [...owners, ...unclaimed]) {
    const source = parseRecord(SourcePredictResult, predictions[sourceIndex], `${where} [${sourceIndex}]`);
    const meta = item && flattenMetadata(item.metadata);
    for (const prediction of source.results?.predictions ?? []) {
      await csv.write(item ? { ...itemKey(item, prediction), jobId, meta } : unclaimedKey(source, prediction, jobId), prediction);
    }
    predictionErrors += source.results?.errors.length ?? 0;
  }
  return predictionErrors;
}

function itemKey(item: ItemRecord, prediction: InferencePrediction) {
  return { itemId: item.id, line: item.line, source: item.kind === 'text' ? '' : item.value, innerPath: sourceInnerPath(item, prediction.file) };
}

function unclaimedKey(source: SourcePredictResult, prediction: InferencePrediction, jobId: string) {
  const named = source.source as { url?: unknown; filename?: unknown };
  const hume = typeof named.url === 'string' ? named.url : typeof named.filename === 'string' ? named.filename : '';
  return { itemId: '', line: null, jobId, source: hume, innerPath: prediction.file };
}
