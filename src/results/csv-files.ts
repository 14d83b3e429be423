/**
 * The merged `csv/<model>.csv` files of a run, written as predictions stream past: a model's
 * file opens (header first) when its first prediction arrives, and rows go out a prediction at a
 * time, so memory holds one job's predictions at most.
 */
import { stringify } from 'csv-stringify/sync';
import { MODEL_NAMES, type ModelName, type SourcePredictResult } from '../hume/schemas.js';
import type { AtomicWriter, ResultStore } from '../store/store.js';
import { ModelTable, type PredictionOf, type RowKey } from './columns.js';
import { csvPath } from './layout.js';

export type InferencePrediction = NonNullable<SourcePredictResult['results']>['predictions'][number];

interface OpenCsv {
  table: ModelTable<ModelName>;
  writer: AtomicWriter;
  rows: number;
}

export class CsvFiles {
  readonly #store: ResultStore;
  readonly #open = new Map<ModelName, OpenCsv>();
  readonly #metaColumns: readonly string[];

  /** `metaColumns`: the run's `meta.<key>` columns, the same in every model's file. */
  constructor(store: ResultStore, metaColumns: readonly string[] = []) {
    this.#store = store;
    this.#metaColumns = metaColumns;
  }

  /** Rows of one predicted file of an item's source, model by model in the contract's order. */
  async write(key: Omit<RowKey, 'groupId'>, prediction: InferencePrediction): Promise<void> {
    for (const model of MODEL_NAMES) {
      const output = prediction.models[model];
      if (!output) continue;
      const rows = [];
      let csv: OpenCsv | undefined;
      for (const group of output.grouped_predictions) {
        for (const p of group.predictions as PredictionOf<ModelName>[]) {
          csv ??= await this.#openFor(model, p);
          rows.push(csv.table.row({ ...key, groupId: group.id }, p));
        }
      }
      if (!csv || rows.length === 0) continue;
      await csv.writer.write(stringify(rows));
      csv.rows += rows.length;
    }
  }

  /** Puts every file in place; returns rows per model, in the contract's model order. */
  async commit(): Promise<Partial<Record<ModelName, number>>> {
    const rows: Partial<Record<ModelName, number>> = {};
    for (const model of MODEL_NAMES) {
      const csv = this.#open.get(model);
      if (!csv) continue;
      await csv.writer.commit();
      rows[model] = csv.rows;
    }
    return rows;
  }

  async abort(): Promise<void> {
    await Promise.all([...this.#open.values()].map((csv) => csv.writer.abort()));
  }

  async #openFor(model: ModelName, first: PredictionOf<ModelName>): Promise<OpenCsv> {
    const open = this.#open.get(model);
    if (open) return open;
    const table = new ModelTable(model, first, this.#metaColumns);
    const writer = await this.#store.createWriter(csvPath(model));
    await writer.write(stringify([table.header]));
    const csv = { table, writer, rows: 0 };
    this.#open.set(model, csv);
    return csv;
  }
}
