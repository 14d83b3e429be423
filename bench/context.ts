/** What every benchmark gets: its sizes, a scratch folder, the Temporal side, and a progress log. */
import type { BenchConfig } from './config.js';
import type { Row } from './table.js';
import type { BenchTemporal } from './temporal.js';

export interface BenchContext {
  config: BenchConfig;
  /** A scratch folder of this bench run, removed at the end. */
  workDir: string;
  /** Started on first use: the plan benchmark alone needs no Temporal. */
  temporal(): Promise<BenchTemporal>;
  /** Progress, to stderr. */
  log(message: string): void;
}

export type Benchmark = (ctx: BenchContext) => Promise<Row[]>;
