/**
 * Research-scale media on a real slow link: the worker reaches the Hume-compatible server through
 * a 2 MB/s TCP proxy. A job uploading 200 MB of local files and downloading ~200 MB of predictions
 * completes with one Hume job, although each transfer takes far longer than any per-call timeout;
 * the link is cut in the middle of the predictions download, and the download resumes from its
 * offset (the server sees a Range request) into a file whose sha256 is the server's.
 */
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRun } from '../../src/client.js';
import { API_KEY, type Stack, startStack } from '../helpers/hume-stack.js';
import { writeFilled } from '../helpers/big-files.js';
import { uniqueId } from '../helpers/temporal.js';
import { startThrottleProxy, type ThrottleProxy } from '../helpers/throttle-proxy.js';

const RATE = 2e6; // bytes per second, each way
const FILE_BYTES = 100e6; // within Hume's 100 MB per local file
/** Words of text making ~200 MB of language predictions at word granularity (~2.7 kB per word). */
const WORDS = 74_000;

async function sha256Of(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk);
  return hash.digest('hex');
}

describe('a job on a 2 MB/s link', () => {
  let stack: Stack;
  let link: ThrottleProxy | undefined;
  let dir: string;

  beforeAll(async () => {
    stack = await startStack({
      emulator: { timing: { queuedMs: [10, 30], processingMs: [20, 60] } },
      through: async (target) => (link = await startThrottleProxy({ target, bytesPerSecond: { clientToServer: RATE, serverToClient: RATE } })),
    });
    dir = mkdtempSync(join(tmpdir(), 'slow-link-'));
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('uploads 200 MB and downloads ~200 MB of predictions with one Hume job, resuming a cut download', { timeout: 600_000 }, async () => {
    await writeFilled(join(dir, 'one.wav'), FILE_BYTES, 1);
    await writeFilled(join(dir, 'two.wav'), FILE_BYTES, 2);
    const text = Array.from({ length: WORDS }, (_, i) => `word${i % 997}`).join(' ');
    const manifest = join(dir, 'manifest.jsonl');
    await writeFile(manifest, [{ file: 'one.wav' }, { file: 'two.wav' }, { text }].map((item) => `${JSON.stringify(item)}\n`).join(''));
    const before = stack.emulator.stats();
    // Past the upload's answers and well into the predictions: the link dies once, mid-download.
    const cut = link?.cutAfterServerToClientBytes(80e6);

    const run = await startRun(
      stack.temporal.client,
      { runId: uniqueId('slow'), outDir: join(dir, 'out'), manifest: { path: manifest }, config: { models: { language: { granularity: 'word' }, prosody: {} } } },
      { taskQueue: stack.temporal.taskQueue },
    );
    const result = await run.result();
    await cut;

    expect(result.summary.items).toMatchObject({ completed: 3, failed: 0 });
    const after = stack.emulator.stats();
    expect(after.jobsCreated - before.jobsCreated).toBe(1);
    expect(after.rangeRequests - before.rangeRequests).toBeGreaterThanOrEqual(1);
    expect(link?.stats.clientToServer).toBeGreaterThan(2 * FILE_BYTES);

    // The file on disk is the server's predictions, byte for byte.
    const [jobDir] = (await readFile(join(result.runDir, 'index.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { job_id: string; batch: number });
    const jobId = jobDir?.job_id as string;
    const local = await sha256Of(createReadStream(join(result.runDir, 'jobs', `${jobDir?.batch}-${jobId}`, 'predictions.json')));
    const served = await request(`${stack.emulator.url}/v0/batch/jobs/${jobId}/predictions`, { headers: { 'x-hume-api-key': API_KEY } });
    const bytes = Number(served.headers['content-length']);
    expect(bytes).toBeGreaterThan(150e6);
    expect(local).toBe(await sha256Of(served.body));
  });
});
