/**
 * DESIGN invariant 1, item contents never travel through history: a whole batch run (parent,
 * every child, every activity input, result, heartbeat and failure, error paths included) holds
 * no item's URL, text or file name. They live in the manifest and the results folder only.
 */
import { mkdtempSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRun } from '../../src/client.js';
import { decodeAll, historiesOnTaskQueue } from '../helpers/history.js';
import { type Stack, startStack } from '../helpers/hume-stack.js';
import { uniqueId } from '../helpers/temporal.js';

const ITEMS = 30;
// Distinctive, so a hit cannot be a coincidence; the URLs carry a signature as presigned ones do.
const urlOf = (i: number) => `https://media.example.org/private/PRIVACYSCAN-url-${i}.jpg?X-Amz-Signature=PRIVACYSCAN${i}sig`;
const textOf = (i: number) => `PRIVACYSCAN text ${i}: the participant said something private.`;
const fileOf = (i: number) => `media/PRIVACYSCAN-file-${i}.wav`;

describe('item contents across a whole batch run', () => {
  let stack: Stack;
  let dir: string;

  beforeAll(async () => {
    // Faults walk the error paths too (retried submits, a resubmission), where values leak into messages.
    stack = await startStack({ emulator: { timing: { queuedMs: [10, 30], processingMs: [20, 60] }, faults: { serverErrorRate: 0.1 } } });
    dir = mkdtempSync(join(tmpdir(), 'privacy-'));
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('leaves no manifest URL, text or file name in any history of the run', async () => {
    await mkdir(join(dir, 'media'), { recursive: true });
    const lines: string[] = [];
    const values: string[] = [];
    for (let i = 1; i <= ITEMS; i++) {
      if (i % 3 === 0) {
        lines.push(JSON.stringify({ text: textOf(i) }));
        values.push(textOf(i));
      } else if (i % 3 === 1) {
        lines.push(JSON.stringify({ url: urlOf(i) }));
        values.push(urlOf(i), new URL(urlOf(i)).pathname);
      } else {
        await writeFile(join(dir, fileOf(i)), `fake audio ${i}`);
        lines.push(JSON.stringify({ file: fileOf(i) }));
        values.push(join(dir, fileOf(i)), basename(fileOf(i)));
      }
    }
    const manifest = join(dir, 'manifest.jsonl');
    await writeFile(manifest, `${lines.join('\n')}\n`);
    stack.emulator.failNextJobs(1, 'injected failure for the privacy scan');

    const { client, taskQueue } = stack.temporal;
    const run = await startRun(
      client,
      {
        runId: uniqueId('privacy'),
        outDir: join(dir, 'out'),
        manifest: { path: manifest },
        config: { models: { language: {}, prosody: {}, face: {} } },
        limits: { maxUrlsPerJob: 4, maxTextsPerJob: 4, maxFilesPerJob: 4 },
        resubmitDelay: '1 second',
        polling: { firstPollAfter: '2 seconds' },
      },
      { taskQueue },
    );
    const result = await run.result();
    expect(result.summary.items).toMatchObject({ completed: ITEMS, failed: 0 });
    const progress = await run.progress();
    expect(progress.resubmissions).toBeGreaterThanOrEqual(1);

    const histories = await historiesOnTaskQueue(client, taskQueue, 1 + progress.jobs.planned);
    const runHistories = histories.filter(({ workflowId }) => workflowId.startsWith(run.workflow.workflowId));
    expect(runHistories.length).toBeGreaterThan(progress.jobs.planned);
    const texts = runHistories.map(({ workflowId, runId, history }) => [`history of ${workflowId} (${runId})`, decodeAll(history)] as const);
    // The scan reads real content: histories name the manifest and the Hume jobs.
    expect(texts.some(([, text]) => text.includes(manifest))).toBe(true);
    for (const [where, text] of texts) {
      for (const value of values) expect(text.includes(value), `${value} found in ${where}`).toBe(false);
      expect(text.includes('PRIVACYSCAN'), `an item value found in ${where}`).toBe(false);
    }
  });
});
