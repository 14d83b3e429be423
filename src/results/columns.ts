/**
 * The columns of `csv/<model>.csv` and the row of one prediction, in this order:
 *   1. who the row belongs to (`KEY_COLUMNS`): the manifest item (`item_id`, `line`), the Hume job
 *      (`job_id`), the item's `source` (its URL or absolute path; empty for texts), the file
 *      inside an archive source (`source_inner_path`, else empty), and the face or speaker (`group_id`);
 *   2. the model's position columns (frame, time, text, …);
 *   3. one column per score, then `other_scores`;
 *   4. the items' metadata, `meta.<key>` (sorted; see metadata.ts).
 * Rows are streamed, so the header is fixed before the first row: score columns come from Hume's
 * published name sets (the emulator's lists, src/emulator/names.ts), in Hume's order; a family
 * whose names were never published (face `facs` and `descriptions`) takes the names of the
 * model's first prediction, and so does a family whose first scores are none of Hume's names (a
 * model that is not Hume's). A family appears when the first prediction carries it (one run shares
 * one config, so all its predictions carry the same families). A score without a column (a name
 * Hume added after these lists, or a `facs` name the first prediction lacked) lands in
 * `other_scores`, JSON `{family: {name: score}}`, rather than being lost; it is empty otherwise.
 */
import type { ModelName, ModelsPredictions, Score } from '../hume/schemas.js';
import { BURST_DESCRIPTIONS, EXPRESSIONS_48, EXPRESSIONS_53, SENTIMENT, TOXICITY } from '../emulator/names.js';

export type Cell = string | number | null | undefined;
export type PredictionOf<M extends ModelName> =
  NonNullable<ModelsPredictions[M]>['grouped_predictions'][number]['predictions'][number];

interface ScoreFamily<P> {
  /** Its key in `other_scores`: the prediction's field name. */
  field: string;
  prefix: string;
  /** Hume's fixed names, when published. */
  names?: readonly string[];
  get(prediction: P): Score[] | null | undefined;
}

interface ModelLayout<P> {
  position: ReadonlyArray<readonly [column: string, get: (prediction: P) => Cell]>;
  scores: ReadonlyArray<ScoreFamily<P>>;
}

const emotions = <P extends { emotions: Score[] }>(names: readonly string[]): ScoreFamily<P> => ({
  field: 'emotions', prefix: '', names, get: (p) => p.emotions,
});
const interval = <P>(name: string, get: (p: P) => { begin: number; end: number } | null | undefined) =>
  [[`${name}_begin`, (p: P) => get(p)?.begin], [`${name}_end`, (p: P) => get(p)?.end]] as const;

const LAYOUTS: { [M in ModelName]: ModelLayout<PredictionOf<M>> } = {
  face: {
    position: [
      ['frame', (p) => p.frame], ['time', (p) => p.time],
      ['box_x', (p) => p.box.x], ['box_y', (p) => p.box.y], ['box_w', (p) => p.box.w], ['box_h', (p) => p.box.h],
      ['prob', (p) => p.prob],
    ],
    scores: [
      emotions(EXPRESSIONS_48),
      { field: 'facs', prefix: 'facs_', get: (p) => p.facs },
      { field: 'descriptions', prefix: 'desc_', get: (p) => p.descriptions },
    ],
  },
  prosody: {
    position: [...interval<PredictionOf<'prosody'>>('time', (p) => p.time), ['text', (p) => p.text], ['confidence', (p) => p.confidence]],
    scores: [emotions(EXPRESSIONS_48)],
  },
  burst: {
    position: interval<PredictionOf<'burst'>>('time', (p) => p.time),
    scores: [emotions(EXPRESSIONS_48), { field: 'descriptions', prefix: 'desc_', names: BURST_DESCRIPTIONS, get: (p) => p.descriptions }],
  },
  language: {
    position: [
      ['text', (p) => p.text],
      ...interval<PredictionOf<'language'>>('position', (p) => p.position),
      ...interval<PredictionOf<'language'>>('time', (p) => p.time),
      ['confidence', (p) => p.confidence],
    ],
    scores: [
      emotions(EXPRESSIONS_53),
      { field: 'sentiment', prefix: 'sentiment_', names: SENTIMENT, get: (p) => p.sentiment },
      { field: 'toxicity', prefix: 'toxicity_', names: TOXICITY, get: (p) => p.toxicity },
    ],
  },
  ner: {
    position: [
      ['entity', (p) => p.entity], ...interval<PredictionOf<'ner'>>('position', (p) => p.position),
      ['entity_confidence', (p) => p.entity_confidence], ['support', (p) => p.support], ['uri', (p) => p.uri],
      ['link_word', (p) => p.link_word],
    ],
    scores: [emotions(EXPRESSIONS_53)],
  },
  facemesh: { position: [], scores: [emotions(EXPRESSIONS_48)] },
};

/** The first columns of every model's CSV, in order. */
export const KEY_COLUMNS = ['item_id', 'line', 'job_id', 'source', 'source_inner_path', 'group_id'] as const;
/** Scores that have no column of their own, as JSON. */
export const OTHER_SCORES = 'other_scores';

/** Who a row belongs to: the manifest item, its job, its source and the file inside it, the face or speaker. */
export interface RowKey {
  /** Empty (with `line` null) for a source Hume returned that no item claimed. */
  itemId: string;
  line: number | null;
  jobId: string;
  /** The item's URL or absolute file path; empty for a text. */
  source: string;
  /** The file inside an archive source the prediction is for, as Hume names it; empty otherwise. */
  innerPath: string;
  groupId: string;
  /** The item's metadata, flattened (`meta.<key>` → cell). */
  meta?: ReadonlyMap<string, Cell>;
}

interface ScoreColumns<P> {
  family: ScoreFamily<P>;
  /** Column offset of the family's first score in the row. */
  offset: number;
  names: readonly string[];
  indexOf: Map<string, number>;
}

/**
 * The score columns a model's header has: for each family present, its names in column order.
 * JSON, so a job's shard can say which header its rows were laid out under.
 */
export type TableSpec = Record<string, readonly string[]>;

/** The header of one model's CSV, fixed by its first prediction and the run's meta columns, and the rows under it. */
export class ModelTable<M extends ModelName> {
  readonly header: string[];
  readonly spec: TableSpec;
  readonly #layout: ModelLayout<PredictionOf<M>>;
  readonly #scores: ScoreColumns<PredictionOf<M>>[] = [];
  readonly #otherScores: number;
  readonly #metaColumns: readonly string[];

  /** The score families (and names) a model's header takes from its first prediction. */
  static specOf<M extends ModelName>(model: M, first: PredictionOf<M>): TableSpec {
    const spec: TableSpec = {};
    for (const family of (LAYOUTS[model] as ModelLayout<PredictionOf<M>>).scores) {
      const present = family.get(first);
      if (!present) continue;
      // Hume's names, unless the first prediction has scores and none of them is Hume's: then
      // the model is another one (the emulator's face-api backend: 7 expressions) and its own
      // names are the columns.
      const own = present.map((s) => s.name);
      const humes = family.names && (own.length === 0 || own.some((name) => family.names?.includes(name)));
      spec[family.field] = humes ? (family.names ?? own) : own;
    }
    return spec;
  }

  constructor(model: M, spec: TableSpec, metaColumns: readonly string[] = []) {
    this.#layout = LAYOUTS[model] as ModelLayout<PredictionOf<M>>;
    this.#metaColumns = metaColumns;
    this.spec = spec;
    this.header = [...KEY_COLUMNS, ...this.#layout.position.map(([column]) => column)];
    for (const family of this.#layout.scores) {
      const names = spec[family.field];
      if (!names) continue;
      this.#scores.push({ family, offset: this.header.length, names, indexOf: new Map(names.map((name, i) => [name, i])) });
      this.header.push(...names.map((name) => family.prefix + name));
    }
    this.#otherScores = this.header.length;
    this.header.push(OTHER_SCORES, ...metaColumns);
  }

  row(key: RowKey, prediction: PredictionOf<M>): Cell[] {
    const cells: Cell[] = new Array<Cell>(this.header.length).fill(null);
    cells[0] = key.itemId;
    cells[1] = key.line;
    cells[2] = key.jobId;
    cells[3] = key.source;
    cells[4] = key.innerPath;
    cells[5] = key.groupId;
    const { position, scores } = this.#layout;
    for (let i = 0; i < position.length; i++) cells[KEY_COLUMNS.length + i] = position[i]![1](prediction);
    let other: Record<string, Record<string, number>> | undefined;
    for (const family of scores) {
      const columns = this.#scores.find((c) => c.family === family);
      const got = family.get(prediction) ?? [];
      for (let i = 0; i < got.length; i++) {
        const { name, score } = got[i]!;
        // Hume sends scores in its published order: the name at the same position is the usual hit.
        const index = columns ? (columns.names[i] === name ? i : columns.indexOf.get(name)) : undefined;
        if (columns && index !== undefined) cells[columns.offset + index] = score;
        else ((other ??= {})[family.field] ??= {})[name] = score;
      }
    }
    cells[this.#otherScores] = other ? JSON.stringify(other) : '';
    this.#metaColumns.forEach((name, i) => {
      cells[this.#otherScores + 1 + i] = key.meta?.get(name) ?? null;
    });
    return cells;
  }
}
