/** What each benchmark runs: the sizes, or much smaller ones under `--quick`. */

export interface BenchConfig {
  /** Texts per versus-script comparison; 100 texts make one Hume job. */
  versusTexts: number[];
  /** Hume job latency (emulator processingMs), ms, drawn uniformly. */
  jobLatencyMs: [number, number];
  /** Zero-latency one-text jobs for the throughput run. */
  throughputJobs: number;
  /** Manifest lines planned, one child process per size. */
  planLines: number[];
  /** Predictions streamed to the results folder, bytes. */
  resultsBytes: number;
  /** The limited link of the transfer bench: its capacity each way and what crosses it, bytes. */
  transferLink: { bytesPerSecond: number; uploadBytes: number; predictionsBytes: number };
  /** Predictions sizes of one job, fetched and finalized at each (peak RSS), bytes. */
  transferSizes: number[];
  /** Texts of the largest end-to-end run (100 per job). */
  millionTexts: number;
}

const MB = 1_000_000;

export const FULL: BenchConfig = {
  versusTexts: [2_000, 50_000],
  jobLatencyMs: [2_000, 10_000],
  throughputJobs: 2_000,
  planLines: [10_000, 100_000, 1_000_000, 2_000_000],
  resultsBytes: 1_000 * MB,
  transferLink: { bytesPerSecond: 8 * MB, uploadBytes: 200 * MB, predictionsBytes: 200 * MB },
  transferSizes: [100 * MB, 500 * MB, 2_000 * MB],
  millionTexts: 1_000_000,
};

export const QUICK: BenchConfig = {
  versusTexts: [200],
  jobLatencyMs: [500, 2_000],
  throughputJobs: 100,
  planLines: [10_000, 100_000],
  resultsBytes: 50 * MB,
  transferLink: { bytesPerSecond: 8 * MB, uploadBytes: 16 * MB, predictionsBytes: 16 * MB },
  transferSizes: [20 * MB],
  millionTexts: 10_000,
};
