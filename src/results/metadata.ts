/**
 * An item's `metadata` as CSV columns: flattened to `meta.<key>`, nested keys joined with `.`
 * (`{"speaker":{"age":41}}` → `meta.speaker.age`). Rows are streamed, so the columns are fixed
 * before the first row: from a CSV manifest's header (its extra columns are the metadata), or
 * from a first pass over the run's items that keeps only the key names, at most
 * `MAX_META_COLUMNS` of them (the rest stay in index.jsonl only).
 */
import { stringify } from 'csv-stringify/sync';
import type { ItemRecord, ManifestRef } from '../schemas/batch.js';
import { parseCsvHeader } from '../manifest/csv.js';
import type { Cell } from './columns.js';

export const META_PREFIX = 'meta.';
/** Meta columns a CSV carries at most; more keys than this are left to index.jsonl. */
export const MAX_META_COLUMNS = 500;

const SOURCE_COLUMNS = new Set(['id', 'url', 'file', 'text']);

/**
 * `meta.<path>` → cell: strings and numbers as they are, booleans as `true`/`false`, arrays as
 * JSON, null as an empty cell; objects recurse (an empty one gives nothing). When two paths
 * flatten to the same name (`{"a.b":1,"a":{"b":2}}`) the later one wins.
 */
export function flattenMetadata(metadata: Record<string, unknown> | undefined): Map<string, Cell> {
  const cells = new Map<string, Cell>();
  const walk = (value: unknown, path: string): void => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [key, inner] of Object.entries(value)) walk(inner, path === '' ? key : `${path}.${key}`);
      return;
    }
    cells.set(META_PREFIX + path, cellOf(value));
  };
  if (metadata) walk(metadata, '');
  return cells;
}

function cellOf(value: unknown): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number') return value;
  if (typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** The meta columns of a run's CSVs, in sorted order so every finalize writes the same header. */
export class MetaColumns {
  readonly #names = new Set<string>();
  /** True when items had more distinct keys than `MAX_META_COLUMNS`. */
  truncated = false;

  /** A CSV manifest's extra columns, which its rows carry as metadata. */
  static fromCsvHeader(manifest: ManifestRef): MetaColumns | undefined {
    if (manifest.format !== 'csv' || manifest.csvHeader === undefined) return undefined;
    const columns = new MetaColumns();
    for (const name of parseCsvHeader(manifest.csvHeader)) if (!SOURCE_COLUMNS.has(name)) columns.#add(META_PREFIX + name);
    return columns;
  }

  /** The columns a checkpoint saved (see `names()` and `truncated`). */
  static restore(saved: { names: readonly string[]; truncated: boolean }): MetaColumns {
    const columns = new MetaColumns();
    for (const name of saved.names) columns.#names.add(name);
    columns.truncated = saved.truncated;
    return columns;
  }

  /** The item's `meta.<key>` cells, in column order, CSV-encoded and each led by a comma: what ends its rows. */
  rowEnd(metadata: Record<string, unknown> | undefined): string {
    if (this.#names.size === 0) return '';
    const cells = flattenMetadata(metadata);
    return `,${stringify([this.names().map((name) => cells.get(name) ?? null)]).slice(0, -1)}`;
  }

  addItem(item: ItemRecord): void {
    if (!item.metadata) return;
    for (const name of flattenMetadata(item.metadata).keys()) this.#add(name);
  }

  names(): string[] {
    return [...this.#names].sort();
  }

  #add(name: string): void {
    if (this.#names.has(name)) return;
    if (this.#names.size >= MAX_META_COLUMNS) this.truncated = true;
    else this.#names.add(name);
  }
}
