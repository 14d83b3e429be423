/** A batch's items from its slice's bytes, validated the way planning validated them. */
import type { BatchRange, InvalidLine, ItemRecord, ManifestRef } from '../schemas/batch.js';
import { isProblem } from './problems.js';
import { readManifest } from './reader.js';
import { type ValidationContext, createValidator } from './validate.js';

export interface SliceItems {
  items: ItemRecord[];
  /** Lines refused now, duplicates the plan recorded excepted. */
  invalid: InvalidLine[];
}

export async function itemsOfSlice(bytes: Buffer, manifest: ManifestRef, range: BatchRange, ctx: ValidationContext): Promise<SliceItems> {
  const validate = createValidator(ctx);
  const duplicates = new Set(range.duplicateLines);
  const result: SliceItems = { items: [], invalid: [] };
  const entries = readManifest([bytes], {
    format: manifest.format,
    start: { line: range.fromLine, byte: range.byteStart },
    csvHeader: manifest.csvHeader,
  });
  for await (const entry of entries) {
    if (entry.kind !== 'line' || duplicates.has(entry.record.line)) continue;
    const { parsed, record } = entry;
    const outcome = isProblem(parsed) ? parsed : await validate(parsed, record.line);
    if (isProblem(outcome)) result.invalid.push({ line: record.line, ...outcome });
    else result.items.push(outcome);
  }
  return result;
}
