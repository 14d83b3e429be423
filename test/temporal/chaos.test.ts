/**
 * The bounded CI version of scripts/chaos.ts: its own Temporal server (SQLite, restarted once),
 * the worker as a process killed with SIGKILL three times, API and callback faults throughout.
 */
import { describe, expect, it } from 'vitest';
import { runChaos } from '../../scripts/chaos.js';

describe('chaos end to end', () => {
  it('ends with every valid item once, no duplicate Hume job, and a folder that agrees with itself', async () => {
    const f = await runChaos({ items: 900, kills: 3, serverRestarts: 1, log: (m) => process.stderr.write(`chaos: ${m}\n`) });

    expect(f.workerKills).toBe(3);
    expect(f.serverRestarts).toBe(1);
    expect(f.state).toBe('completed');
    // The faults really happened.
    expect(f.faults.injected).toBeGreaterThan(0);
    expect(f.faults.callbacksDropped).toBeGreaterThan(0);
    expect(f.humeJobs.failed).toBeGreaterThan(0);

    // Every valid item exactly once, completed, with its predictions on disk.
    expect(f.results).toMatchObject({
      indexRows: f.items,
      completed: f.validItems,
      notCompleted: 0,
      distinctCompletedIds: f.validItems,
      missingLines: 0,
      withPredictions: f.validItems,
      summaryItems: { completed: f.validItems, failed: 0 },
    });

    // One Hume job per batch plus one per deliberate resubmission of a FAILED job, counted three ways.
    expect(f.humeJobs.duplicates).toEqual([]);
    expect(f.resubmissions).toBe(f.humeJobs.failed);
    expect(f.humeJobs.expected).toBe(f.batches + f.resubmissions);
    expect(f.humeJobs.created).toBe(f.humeJobs.expected);
    expect(f.humeJobs.listed).toBe(f.humeJobs.expected);
    expect(f.humeJobs.runCounted).toBe(f.humeJobs.expected);
    expect(f.results.summaryHumeJobs).toBe(f.humeJobs.expected);

    // CSVs hold what the summary says, and only items the index has as completed.
    expect(Object.keys(f.results.csv).sort()).toEqual(['face', 'language', 'prosody']);
    for (const csv of Object.values(f.results.csv)) {
      expect(csv.rows).toBe(csv.summaryRows);
      expect(csv.unknownIds).toBe(0);
    }
  }, 300_000);
});
