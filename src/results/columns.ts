/**
 * The columns of `csv/<model>.csv` and the row of one prediction. Rows are streamed, so the
 * header is fixed before the first row: score columns come from Hume's published name sets (the
 * emulator's lists, src/emulator/names.ts), in Hume's order; a family whose names were never
 * published (face `facs` and `descriptions`) takes the names of the model's first prediction.
 * A family appears when the first prediction carries it (one run shares one config, so all its
 * predictions carry the same families). Any score without a column lands in the trailing `extra`
 * JSON column rather than being lost.
 */
import type { ModelName, ModelsPredictions, Score } from '../hume/schemas.js';
import { BURST_DESCRIPTIONS, EXPRESSIONS_48, EXPRESSIONS_53, SENTIMENT, TOXICITY } from '../emulator/names.js';

export type Cell = string | number | null | undefined;
export type PredictionOf<M extends ModelName> =
  NonNullable<ModelsPredictions[M]>['grouped_predictions'][number]['predictions'][number];

interface ScoreFamily<P> {
  /** Its key in `extra`: the prediction's field name. */
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

/** Who a row belongs to: the manifest item, the file inside its source, the face or speaker. */
export interface RowKey {
  itemId: string;
  file: string;
  groupId: string;
}

interface ScoreColumns<P> {
  family: ScoreFamily<P>;
  /** Column offset of the family's first score in the row. */
  offset: number;
  indexOf: Map<string, number>;
}

/** The header of one model's CSV, fixed by its first prediction, and the rows under it. */
export class ModelTable<M extends ModelName> {
  readonly header: string[];
  readonly #layout: ModelLayout<PredictionOf<M>>;
  readonly #scores: ScoreColumns<PredictionOf<M>>[] = [];

  constructor(model: M, first: PredictionOf<M>) {
    this.#layout = LAYOUTS[model] as ModelLayout<PredictionOf<M>>;
    this.header = ['item_id', 'file', 'group_id', ...this.#layout.position.map(([column]) => column)];
    for (const family of this.#layout.scores) {
      const present = family.get(first);
      if (!present) continue;
      const names = family.names ?? present.map((s) => s.name);
      this.#scores.push({ family, offset: this.header.length, indexOf: new Map(names.map((name, i) => [name, i])) });
      this.header.push(...names.map((name) => family.prefix + name));
    }
    this.header.push('extra');
  }

  row(key: RowKey, prediction: PredictionOf<M>): Cell[] {
    const cells: Cell[] = [key.itemId, key.file, key.groupId, ...this.#layout.position.map(([, get]) => get(prediction))];
    while (cells.length < this.header.length) cells.push(null);
    const extra: Record<string, Record<string, number>> = {};
    for (const family of this.#layout.scores) {
      const columns = this.#scores.find((c) => c.family === family);
      for (const { name, score } of family.get(prediction) ?? []) {
        const index = columns?.indexOf.get(name);
        if (columns && index !== undefined) cells[columns.offset + index] = score;
        else (extra[family.field] ??= {})[name] = score;
      }
    }
    cells[this.header.length - 1] = Object.keys(extra).length > 0 ? JSON.stringify(extra) : '';
    return cells;
  }
}
