import { describe, expect, it } from 'vitest';
import { BatchPlanner, type PlannedBatch } from '../../src/batching/plan.js';
import { type BatchLimits, DEFAULT_BATCH_LIMITS, type ItemRecord, type SourceKind } from '../../src/schemas/batch.js';

const MB = 1024 * 1024;

function item(line: number, kind: SourceKind, bytes = 0): ItemRecord {
  return { line, id: `line-${line}`, kind, value: `v${line}`, bytes: kind === 'url' ? 0 : bytes };
}

/** Plans items laid out as one 10-byte line each, in order. */
function planAll(items: ItemRecord[], limits: BatchLimits = DEFAULT_BATCH_LIMITS): PlannedBatch[] {
  const planner = new BatchPlanner(limits);
  const batches: PlannedBatch[] = [];
  for (const it of items) {
    const closed = planner.add(it, { line: it.line, endLine: it.line, byteStart: (it.line - 1) * 10, byteEnd: it.line * 10 });
    if (closed) batches.push(closed);
  }
  const last = planner.finish();
  if (last) batches.push(last);
  return batches;
}

/** Whether items may share one job: the planner's rule, stated independently. */
function feasible(items: ItemRecord[], limits: BatchLimits): boolean {
  const count = (kind: SourceKind) => items.filter((i) => i.kind === kind).length;
  const bytes = (kind: SourceKind) => items.filter((i) => i.kind === kind).reduce((sum, i) => sum + i.bytes, 0);
  return (
    count('url') <= limits.maxUrlsPerJob &&
    count('text') <= limits.maxTextsPerJob &&
    count('file') <= limits.maxFilesPerJob &&
    ((bytes('file') <= limits.maxUploadBytesPerJob && bytes('text') <= limits.maxTextBytesPerJob) || items.length === 1)
  );
}

/** The fewest contiguous batches, by dynamic programming over every split. */
function optimum(items: ItemRecord[], limits: BatchLimits): number {
  const best = [0];
  for (let end = 1; end <= items.length; end++) {
    let min = Infinity;
    for (let start = end - 1; start >= 0 && feasible(items.slice(start, end), limits); start--) {
      min = Math.min(min, (best[start] ?? Infinity) + 1);
    }
    best.push(min);
  }
  return best[items.length] ?? NaN;
}

function expectWithinLimits(batches: PlannedBatch[], items: ItemRecord[], limits: BatchLimits): void {
  let next = 0;
  batches.forEach((batch, index) => {
    expect(batch.index).toBe(index);
    const members = items.slice(next, next + batch.items);
    next += batch.items;
    // Contiguous and in order: the batch spans exactly its members' lines.
    expect(batch.fromLine).toBe(members[0]?.line);
    expect(batch.toLine).toBe(members.at(-1)?.line);
    expect(batch.byteStart).toBe(((members[0]?.line ?? 0) - 1) * 10);
    expect(batch.byteEnd).toBe((members.at(-1)?.line ?? 0) * 10);
    expect(feasible(members, limits)).toBe(true);
    expect([batch.urls, batch.texts, batch.files]).toEqual(['url', 'text', 'file'].map((k) => members.filter((m) => m.kind === k).length));
    expect(batch.uploadBytes).toBe(members.filter((m) => m.kind === 'file').reduce((s, m) => s + m.bytes, 0));
  });
  expect(next).toBe(items.length);
}

describe('BatchPlanner', () => {
  it('plans 1,234 mixed items within every limit, in order, in the fewest batches', () => {
    const limits: BatchLimits = { ...DEFAULT_BATCH_LIMITS, maxUploadBytesPerJob: 50 * MB, maxTextBytesPerJob: 20 * MB };
    const kinds: SourceKind[] = ['url', 'text', 'file', 'file', 'url', 'text', 'text'];
    // Gaps in line numbers stand for invalid or blank lines between items.
    const items = Array.from({ length: 1234 }, (_, i) => item(i * 2 + 1, kinds[(i * 7) % kinds.length] ?? 'url', ((i * 7919) % 9) * MB + 1));
    const batches = planAll(items, limits);
    expectWithinLimits(batches, items, limits);
    expect(batches.length).toBe(optimum(items, limits));
  });

  it('fills to exactly 100 per kind with the default limits, mixing kinds in one job', () => {
    const items = Array.from({ length: 450 }, (_, i) => item(i + 1, (['url', 'text', 'file'] as const)[i % 3] ?? 'url', 10));
    const batches = planAll(items);
    expect(batches.map((b) => [b.items, b.urls, b.texts, b.files, b.fromLine, b.toLine])).toEqual([
      [300, 100, 100, 100, 1, 300],
      [150, 50, 50, 50, 301, 450],
    ]);
  });

  it('honours lowered per-kind limits', () => {
    const limits = { ...DEFAULT_BATCH_LIMITS, maxUrlsPerJob: 3, maxTextsPerJob: 2 };
    const items = Array.from({ length: 10 }, (_, i) => item(i + 1, i < 7 ? 'url' : 'text', 5));
    const batches = planAll(items, limits);
    expect(batches.map((b) => [b.fromLine, b.toLine, b.urls, b.texts])).toEqual([
      [1, 3, 3, 0],
      [4, 6, 3, 0],
      [7, 9, 1, 2],
      [10, 10, 0, 1],
    ]);
    expect(batches.length).toBe(optimum(items, limits));
  });

  it('never goes over the upload cap, and puts a file bigger than the cap in a batch of its own', () => {
    const limits = { ...DEFAULT_BATCH_LIMITS, maxUploadBytesPerJob: 10 * MB };
    const items = [
      item(1, 'file', 4 * MB),
      item(2, 'file', 6 * MB), // exactly at the cap together with line 1
      item(3, 'file', 30 * MB), // oversized: alone
      item(4, 'url'), // does not ride along with the oversized upload
      item(5, 'file', 1 * MB),
      item(6, 'text', 100),
    ];
    const batches = planAll(items, limits);
    expect(batches.map((b) => [b.fromLine, b.toLine, b.uploadBytes])).toEqual([
      [1, 2, 10 * MB],
      [3, 3, 30 * MB],
      [4, 6, 1 * MB],
    ]);
    expectWithinLimits(batches, items, limits);
    expect(batches.length).toBe(optimum(items, limits));
  });

  it('counts text bytes against no upload cap (texts travel in the JSON part)', () => {
    const limits = { ...DEFAULT_BATCH_LIMITS, maxUploadBytesPerJob: 10 };
    expect(planAll([item(1, 'text', 1000), item(2, 'text', 1000)], limits)).toHaveLength(1);
  });

  it('splits texts that would make one request too large to build: three 180 MB texts are three jobs', () => {
    const items = [item(1, 'text', 180 * MB), item(2, 'text', 180 * MB), item(3, 'text', 180 * MB), item(4, 'text', 70 * MB), item(5, 'url')];
    const batches = planAll(items);
    // 180 + 70 MB of text stay within the 256 MiB default; a URL adds no text bytes.
    expect(batches.map((b) => [b.fromLine, b.toLine])).toEqual([[1, 1], [2, 2], [3, 5]]);
    expectWithinLimits(batches, items, DEFAULT_BATCH_LIMITS);
    expect(batches.length).toBe(optimum(items, DEFAULT_BATCH_LIMITS));
  });

  it('plans nothing from nothing', () => {
    expect(planAll([])).toEqual([]);
  });

  it('refuses limits above Hume’s, naming the option', () => {
    expect(() => new BatchPlanner({ ...DEFAULT_BATCH_LIMITS, maxUrlsPerJob: 101 })).toThrow(/maxUrlsPerJob/);
  });
});
