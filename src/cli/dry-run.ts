/**
 * `run --dry-run`: the run's own planning step, called directly (no Temporal, no Hume) into a
 * temporary folder, reporting what a run would do and every line it would refuse.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createManifestActivities } from '../activities/manifest.js';
import type { JobConfig } from '../hume/schemas.js';
import { INVALID_JSONL } from '../results/layout.js';
import type { BatchLimits, InvalidLine, ManifestFormat, PlanResult } from '../schemas/batch.js';

export interface DryRun {
  manifest: PlanResult['manifest'];
  items: number;
  validItems: number;
  invalidCount: number;
  /** Hume jobs the run would create (one per batch, before any resubmission). */
  jobs: number;
  uploadBytes: number;
  /** Every invalid line, not only the first thousand the plan keeps. */
  invalid: InvalidLine[];
  /** False when the run would be refused: invalid lines without `skipInvalid`. */
  wouldRun: boolean;
}

export async function dryRun(
  manifestPath: string,
  format: ManifestFormat | undefined,
  config: JobConfig,
  skipInvalid: boolean,
  /** The run's lower per-job limits (`--texts-per-job` …), so the job count is the run's. */
  limits?: Partial<BatchLimits>,
): Promise<DryRun> {
  const runDir = await mkdtemp(join(tmpdir(), 'temporal-hume-dry-run-'));
  try {
    // skipInvalid here so the plan completes and lists every line; the verdict is computed below.
    const plan = await createManifestActivities().humePlanManifest({ runDir, manifest: { path: manifestPath, format }, config, skipInvalid: true, ...(limits ? { limits } : {}) });
    return {
      manifest: plan.manifest,
      items: plan.items,
      validItems: plan.validItems,
      invalidCount: plan.invalidCount,
      jobs: plan.batches,
      uploadBytes: plan.uploadBytes,
      invalid: await readInvalid(join(runDir, INVALID_JSONL)),
      wouldRun: plan.invalidCount === 0 || skipInvalid,
    };
  } finally {
    await rm(runDir, { recursive: true, force: true });
  }
}

async function readInvalid(path: string): Promise<InvalidLine[]> {
  const lines: InvalidLine[] = [];
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    if (line) lines.push(JSON.parse(line) as InvalidLine);
  }
  return lines;
}

export const describeInvalidLine = (l: InvalidLine) => `line ${l.line}: ${l.field}: ${l.rule} (${JSON.stringify(l.value)})`;

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]} (${bytes} bytes)`;
}
