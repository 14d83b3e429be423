/**
 * Runs the results activities in a process of their own, so a test can measure that process's
 * peak memory or kill it outright. Reads its task (JSON) from the file named by argv[2]; prints
 * one JSON line with the activities' results and the peak resident set (VmHWM).
 *   - `fetchAndFinalize`: humeFetchResults for one batch job against `baseUrl`, then humeFinalizeRun;
 *   - `finalize`: humeFinalizeRun only (checkpointing after every batch, or `checkpointEveryMs`);
 *     with `killAtLoad`, the process SIGKILLs itself when finalize asks for a batch's items for the
 *     `killAtLoad`-th time (1-based).
 */
import { readFile } from 'node:fs/promises';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities/index.js';
import { createFinalizeActivities, type FinalizeInput } from '../../src/activities/finalize.js';
import type { FetchResultsInput } from '../../src/activities/results.js';
import { HumeClient } from '../../src/hume/client.js';
import { jsonlLoader } from './helpers.js';

type Task =
  | { kind: 'fetchAndFinalize'; baseUrl: string; fetch: FetchResultsInput; finalize: FinalizeInput }
  | { kind: 'finalize'; finalize: FinalizeInput; killAtLoad?: number; checkpointEveryMs?: number };

async function peakRssBytes(): Promise<number> {
  const status = await readFile('/proc/self/status', 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]) * 1024;
}

const task = JSON.parse(await readFile(process.argv[2]!, 'utf8')) as Task;
const env = new MockActivityEnvironment();
const started = performance.now();
if (task.kind === 'fetchAndFinalize') {
  const hume = new HumeClient({ apiKey: 'test-key', baseUrl: task.baseUrl, timeoutMs: 1_800_000, maxRequestsPerSecond: Infinity });
  const { humeFetchResults, humeFinalizeRun } = createActivities({ hume });
  const stored = await env.run(humeFetchResults, task.fetch);
  const fetchSeconds = (performance.now() - started) / 1000;
  const summary = await env.run(humeFinalizeRun, task.finalize);
  const seconds = (performance.now() - started) / 1000;
  console.log(JSON.stringify({ stored, summary, fetchSeconds, seconds, peakRss: await peakRssBytes() }));
} else {
  let loads = 0;
  const { humeFinalizeRun } = createFinalizeActivities({
    // After every batch unless told otherwise, so the kill lands at a known checkpoint.
    checkpointEveryMs: task.checkpointEveryMs ?? 0,
    loadItems: (manifest, range, validation) => {
      if (++loads === task.killAtLoad) process.kill(process.pid, 'SIGKILL');
      return jsonlLoader(manifest, range, validation);
    },
  });
  const summary = await env.run(humeFinalizeRun, task.finalize);
  console.log(JSON.stringify({ summary, seconds: (performance.now() - started) / 1000, peakRss: await peakRssBytes() }));
}
