/**
 * The production-shaped cluster of scripts/cluster.ts, at CI size: Temporal on PostgreSQL, two
 * workers sharing no folder, the receiver in its own process, S3 in and out, a worker SIGKILLed,
 * PostgreSQL and the Temporal server restarted mid-run.
 */
import { describe, expect, it } from 'vitest';
import { runCluster } from '../../scripts/cluster.js';

describe('a production-shaped cluster', () => {
  it('runs an S3 manifest to S3 through a worker kill and PostgreSQL and Temporal restarts: every item once, no duplicate Hume job, nothing on the workers\' disks', async () => {
    const f = await runCluster({ items: 300 });
    expect(f.state).toBe('completed');
    expect(f.disturbances).toEqual(['kill-worker', 'restart-postgres', 'restart-temporal']);
    // Both workers did the work, and neither needed the other's disk.
    expect(f.workersThatRanActivities).toBe(2);
    expect(f.results).toMatchObject({ indexRows: f.validItems, completed: f.validItems, distinctCompletedIds: f.validItems, missingLines: 0, withPredictions: f.validItems });
    expect(f.results.summaryItems).toMatchObject({ completed: f.validItems, failed: 0 });
    for (const csv of Object.values(f.results.csv)) expect(csv).toMatchObject({ rows: csv.summaryRows, unknownIds: 0 });
    expect(f.humeJobs.duplicates).toEqual([]);
    expect(f.humeJobs.created).toBe(f.humeJobs.expected);
    expect(f.humeJobs.listed).toBe(f.humeJobs.created);
    for (const disk of f.workerDisks) expect(disk.outsideTmp).toEqual([]);
  });
});
