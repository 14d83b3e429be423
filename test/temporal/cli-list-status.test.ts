/**
 * `list`, `status` (in-flight batches, a task queue no worker polls), `status --watch`, `resize`
 * and the run flags that only the API had, through the real bin on the shared dev server. Hume
 * keeps each job queued for a while, so the run is still running while we look at it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { HumeJobStatus, RunProgress } from '../../src/workflows/definitions.js';
import { cleanEnv } from '../cli/helpers.js';
import { type Stack, startStack } from '../helpers/hume-stack.js';
import { runCli } from '../helpers/spawn.js';
import { uniqueId } from '../helpers/temporal.js';

interface StatusJson {
  status: string;
  kind: string;
  progress: RunProgress;
  batches?: { running: number; shown: Array<{ batch: number; workflowId: string; status?: HumeJobStatus }> };
}
interface ListJson {
  runs: Array<{ runId: string; workflowId: string; status: string; state: string; items?: { done: number; total: number }; folder?: string; startedAt: string }>;
}

describe('temporal-hume list / status / resize', () => {
  let stack: Stack;
  let dir: string;
  let manifest: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    stack = await startStack({ emulator: { timing: { queuedMs: [15_000, 15_000], processingMs: [10, 10] } } });
    dir = mkdtempSync(join(tmpdir(), 'cli-list-'));
    manifest = join(dir, 'manifest.jsonl');
    writeFileSync(manifest, `${['one', 'two', 'three'].map((text, i) => JSON.stringify({ id: `t${i}`, text: `Text ${text}.` })).join('\n')}\n`);
    env = cleanEnv({ TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: stack.temporal.taskQueue });
  });
  afterAll(() => stack.close());

  const cli = (...args: string[]) => runCli(args, env);

  it('starts with the API-only options, shows in-flight batches, lists, resizes, and is watched to its end', async () => {
    const runId = uniqueId('list');
    const workflowId = `hume-run-${runId}`;
    const out = join(dir, 'out');
    const started = await cli(
      'run', manifest, '--models', 'language', '--out', out, '--run-id', runId, '--no-wait',
      '--texts-per-job', '1', '--max-jobs-in-flight', '1', '--max-job-attempts', '2', '--max-failed-percent', '50',
      '--first-poll-after', '2 seconds', '--max-poll-interval', '5000', '--max-job-duration', '1 hour',
      '--pause-after-failed-batches', '3', '--artifacts', '--search-attributes',
    );
    expect(started.code, started.stderr).toBe(0);
    const handle = stack.temporal.client.workflow.getHandle(workflowId);
    const history = await handle.fetchHistory();
    const payload = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    expect(defaultPayloadConverter.fromPayload(payload)).toMatchObject({
      runId,
      maxJobsInFlight: 1,
      maxJobAttempts: 2,
      maxFailedItemsPercent: 50,
      limits: { maxTextsPerJob: 1 },
      polling: { firstPollAfter: '2 seconds', maxInterval: 5000 },
      maxJobDuration: '1 hour',
      pauseAfterFailedBatches: 3,
      artifacts: true,
      searchAttributes: true,
    });

    // Re-attached to the run started with --no-wait: it ends when the run does, exiting as `run` would.
    const watching = cli('status', runId, '--watch');

    // Each batch's child answers its own status query; visibility lists the children a moment after they start.
    let status: StatusJson | undefined;
    for (const until = Date.now() + 60_000; Date.now() < until; ) {
      const result = await cli('status', runId, '--json');
      expect(result.code, result.stderr).toBe(0);
      status = JSON.parse(result.stdout) as StatusJson;
      if (status.batches?.shown.some((b) => b.status?.phase === 'waiting')) break;
    }
    expect(status).toMatchObject({ status: 'RUNNING', kind: 'running', progress: { runId, jobs: { planned: 3 } } });
    const waiting = status!.batches!.shown.find((b) => b.status?.phase === 'waiting')!;
    expect(waiting.workflowId).toBe(`${workflowId}/batch-${waiting.batch}`);
    expect(waiting.status).toMatchObject({ phase: 'waiting', attempt: 1, maxJobAttempts: 2 });
    const plain = await cli('status', runId);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr).toBe('');
    expect(plain.stdout).toMatch(/^batch \d+ +(submitting|waiting|fetching), attempt 1\/2/m);
    // Jobs of batches still in flight are counted too, apart from those of finished batches.
    expect(plain.stdout).toMatch(/^Hume jobs created +\d+ by finished batches \(\d+ resubmissions\), and [1-9]\d* by batches in flight$/m);

    const [listed, table] = await Promise.all([cli('list', '--running', '--json', '--limit', '1000'), cli('list', '--running', '--limit', '1000')]);
    expect(listed.code, listed.stderr).toBe(0);
    const mine = (JSON.parse(listed.stdout) as ListJson).runs.find((r) => r.runId === runId);
    expect(mine).toMatchObject({ workflowId, status: 'RUNNING', state: 'running', folder: join(out, runId), items: { total: 3 } });
    expect(Date.parse(mine!.startedAt)).toBeGreaterThan(Date.now() - 10 * 60_000);
    expect(table.stdout).toMatch(/^RUN +STATE +ITEMS +STARTED +FOLDER$/m);
    expect(table.stdout).toMatch(new RegExp(`^${runId} +running +\\d/3 +\\S+ +${join(out, runId)}$`, 'm'));

    const resized = await cli('resize', runId, '3');
    expect(resized.code, resized.stderr).toBe(0);
    expect(resized.stdout).toMatch(/^max jobs in flight 3; running: items \d\/3 /);
    expect((await stack.temporal.client.workflow.getHandle(workflowId).query<RunProgress>('progress')).maxJobsInFlight).toBe(3);

    const watched = await watching;
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stderr).toContain(`watching run ${workflowId}`);
    expect(watched.stdout).toMatch(/^state +completed$/m);
    expect(watched.stdout).toMatch(/^items +3 completed, 0 failed, 0 invalid, 0 not run$/m);

    const listedAfter = await cli('list', '--json', '--limit', '1000');
    expect(listedAfter.code, listedAfter.stderr).toBe(0);
    const after = JSON.parse(listedAfter.stdout) as ListJson;
    expect(after.runs.find((r) => r.runId === runId)).toMatchObject({ status: 'COMPLETED', state: 'completed', items: { done: 3, total: 3 }, folder: join(out, runId) });

    const ended = await cli('resize', runId, '5');
    expect(ended.code).toBe(1);
    expect(ended.stderr).toMatch(/has ended \(completed\): nothing to resize$/m);
  });

  it('says when no worker polls the run\'s task queue, without waiting on a query', async () => {
    const runId = uniqueId('no-worker');
    const queue = uniqueId('nobody-polls');
    const started = await cli('run', manifest, '--models', 'language', '--out', join(dir, 'out'), '--run-id', runId, '--task-queue', queue, '--no-wait');
    expect(started.code, started.stderr).toBe(0);
    try {
      const [plain, json] = await Promise.all([cli('status', runId), cli('status', runId, '--json')]);
      const line = `no worker is polling task queue ${queue}: start \`temporal-hume worker\`\n`;
      expect(plain.code, plain.stderr).toBe(0);
      expect(plain.stderr).toBe(line);
      expect(plain.stdout).toMatch(/^state +running \(no worker: progress unknown\)$/m);
      expect(json.code, json.stderr).toBe(0);
      expect(json.stderr).toBe(line);
      expect(JSON.parse(json.stdout)).toMatchObject({ status: 'RUNNING', worker: false, taskQueue: queue });
      // Memo only: it never answers a query, yet is listed at once.
      const list = await cli('list', '--running', '--json', '--limit', '1000');
      expect(list.code, list.stderr).toBe(0);
      const listed = JSON.parse(list.stdout) as ListJson;
      expect(listed.runs.find((r) => r.runId === runId)).toEqual({
        runId,
        workflowId: `hume-run-${runId}`,
        status: 'RUNNING',
        state: 'running',
        startedAt: expect.any(String),
      });
    } finally {
      await stack.temporal.client.workflow.getHandle(`hume-run-${runId}`).terminate('test over');
    }
  });
});
