/**
 * One completed job's CSV rows: its predictions.json is read and parsed whole (a single job is
 * bounded by Hume's per-job limits) and dropped before the next job. Rows follow manifest line
 * order, then Hume's order within a source; a source no item claimed keeps its rows, unlabelled.
 */
import { z } from 'zod';
import { SourcePredictResult } from '../hume/schemas.js';
import type { BatchOutcome } from '../schemas/batch.js';
import type { ResultStore } from '../store/store.js';
import type { CsvFiles } from './csv-files.js';
import { parseRecord } from './records.js';

const RawSources = z.array(z.unknown());

/**
 * Writes the job's rows for the items it speaks for (`owns`: a redrive may have completed some of
 * its failed items in another job); returns its per-file error count.
 */
export async function writeJobRows(
  store: ResultStore,
  csv: CsvFiles,
  outcome: BatchOutcome,
  predictionsPath: string,
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
    .map((item) => ({ id: item.id, sourceIndex: item.sourceIndex as number }));
  const claimed = new Set(outcome.items.map((item) => item.sourceIndex));
  const unclaimed = predictions.flatMap((_, sourceIndex) => (claimed.has(sourceIndex) ? [] : [{ id: '', sourceIndex }]));

  let fileErrors = 0;
  for (const { id, sourceIndex } of [...owners, ...unclaimed]) {
    const source = parseRecord(SourcePredictResult, predictions[sourceIndex], `${where} [${sourceIndex}]`);
    for (const prediction of source.results?.predictions ?? []) await csv.write(id, prediction);
    fileErrors += source.results?.errors.length ?? 0;
  }
  return fileErrors;
}
