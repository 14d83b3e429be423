/**
 * Schemas for the run files finalize reads back (plan.jsonl, invalid.jsonl, outcome.json): they
 * are on disk, so they are parsed like any other input, and must match the contracts' types.
 */
import { z } from 'zod';
import type { BatchOutcome, BatchRange, InvalidLine } from '../schemas/batch.js';
import { describeIssues } from '../schemas/issues.js';
import type { ResultStore } from '../store/store.js';

const count = z.number().int().min(0);

export const BatchRangeRecord = z.object({
  index: count,
  fromLine: count,
  toLine: count,
  byteStart: count,
  byteEnd: count,
  sliceSha256: z.string(),
  items: count,
  urls: count,
  texts: count,
  files: count,
  uploadBytes: count,
  duplicateLines: z.array(count).optional(),
  lines: z.array(count).optional(),
}) satisfies z.ZodType<BatchRange>;

export const InvalidLineRecord = z.object({
  line: count,
  field: z.string(),
  value: z.string(),
  rule: z.string(),
}) satisfies z.ZodType<InvalidLine>;

export const BatchOutcomeRecord = z.object({
  batch: count,
  jobId: z.string().optional(),
  status: z.enum(['COMPLETED', 'FAILED']),
  error: z.string().optional(),
  predictionsPath: z.string().optional(),
  items: z.array(
    z.object({
      line: count,
      id: z.string(),
      sourceIndex: count.optional(),
      status: z.enum(['completed', 'failed']),
      error: z.string().optional(),
    }),
  ),
}) satisfies z.ZodType<BatchOutcome>;

/** Parses one record, naming the file (and line) when it does not fit. */
export function parseRecord<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`${where}: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** The records of a JSONL file, streamed, skipping blank lines. */
export async function* readRecords<T>(store: ResultStore, path: string, schema: z.ZodType<T>): AsyncGenerator<T> {
  let line = 0;
  for await (const text of store.readLines(path)) {
    line++;
    if (text.trim() === '') continue;
    const where = `${store.resolve(path)}:${line}`;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new Error(`${where}: not JSON (${(e as Error).message})`);
    }
    yield parseRecord(schema, value, where);
  }
}
