/**
 * The emulator takes what Hume's limits allow without its memory growing with the input: texts
 * stream to disk on the way in, predictions and echoes stream back out. It runs in a child
 * process here so its resident memory can be sampled from /proc while it works.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import parser from 'stream-json/parser.js';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('./fixtures/cli-main.ts', import.meta.url));
const KEY = 'large-inputs-key';
const MiB = 1024 * 1024;
const TEXT_MIB = 200;
/**
 * The child idles near 120 MB (Node, tsx, fastify). One 200 MB text held as a JS string would
 * be 200–400 MB more, so a peak under this bound means no text, echo or prediction was held whole.
 */
const RSS_BOUND = 300 * MiB;

/** One MiB of lowercase filler with one capitalised word, so ner finds one entity per MiB. */
function mebibyte(entity: string): Buffer {
  const word = `${'x'.repeat(99)} `;
  const filler = word.repeat(Math.floor((MiB - entity.length - 1) / word.length));
  return Buffer.from(`${`${entity} ${filler}`.padEnd(MiB - 1, 'y')} `);
}
const CHUNKS = [mebibyte('Paris'), mebibyte('Lyon')];
const expectedSha = (chunk: Buffer): string => {
  const hash = createHash('sha256');
  for (let i = 0; i < TEXT_MIB; i++) hash.update(chunk);
  return hash.digest('hex');
};

let child: ChildProcess;
let url: string;
let peakRss = 0;
let sampler: NodeJS.Timeout;

beforeAll(async () => {
  child = spawn(process.execPath, ['--import', 'tsx', script, '--port', '0', '--api-key', KEY, '--queued-ms', '0', '--processing-ms', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)\n/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`emulator exited ${code}`)));
  });
  sampler = setInterval(() => {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
    peakRss = Math.max(peakRss, Number(kb) * 1024);
  }, 20);
});
afterAll(async () => {
  clearInterval(sampler);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited; // it removes its work folder (400 MB of texts) on the way out
});

const api = (path: string, init: Parameters<typeof request>[1] = {}) =>
  request(`${url}${path}`, { ...init, headers: { 'x-hume-api-key': KEY, ...init.headers } });

async function completed(count: number): Promise<void> {
  for (;;) {
    const stats = (await (await api('/_emulator/stats')).body.json()) as { jobsCompleted: number; jobsFailed: number };
    expect(stats.jobsFailed).toBe(0);
    if (stats.jobsCompleted >= count) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Reads a job object as tokens: its state, and each echoed text's length and sha256. */
async function readJob(body: Readable): Promise<{ state: Record<string, unknown>; texts: { chars: number; sha256: string }[] }> {
  const tokens = body.pipe(parser.asStream({ packStrings: false, packKeys: true, streamKeys: false }));
  const state: Record<string, unknown> = {};
  const texts: { chars: number; sha256: string }[] = [];
  const path: string[] = [];
  let key = '';
  let value = '';
  let text: { chars: number; hash: ReturnType<typeof createHash> } | undefined;
  for await (const t of tokens as AsyncIterable<parser.Token>) {
    const inState = path.at(-1) === 'state';
    if (t.name === 'keyValue') key = t.value;
    else if (t.name === 'startObject') path.push(key);
    else if (t.name === 'endObject') path.pop();
    else if (t.name === 'startString' && path.at(-1) === 'request' && key === 'text') text = { chars: 0, hash: createHash('sha256') };
    else if (t.name === 'stringChunk' && text) {
      text.chars += t.value.length;
      text.hash.update(t.value);
    } else if (t.name === 'stringChunk' && inState) value += t.value;
    else if (t.name === 'endString' && text) {
      texts.push({ chars: text.chars, sha256: text.hash.digest('hex') });
      text = undefined;
    } else if (t.name === 'endString' && inState) {
      state[key] = value;
      value = '';
    } else if (t.name === 'numberValue' && inState) state[key] = Number(t.value);
  }
  return { state, texts };
}

describe('large inputs, in a child process', () => {
  it('completes a 1.5 MB text and echoes it back', async () => {
    const text = 'A sentence of the big text. '.repeat(56_000);
    // One conversational turn: a single prediction carrying the whole text.
    const models = { language: { granularity: 'conversational_turn' } };
    const res = await api('/v0/batch/jobs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: [text], models }) });
    const { job_id: id } = (await res.body.json()) as { job_id: string };
    await completed(1);
    const job = (await (await api(`/v0/batch/jobs/${id}`)).body.json()) as any;
    expect(job.state.status).toBe('COMPLETED');
    expect(job.request.text).toEqual([text]);
    const predictions = (await (await api(`/v0/batch/jobs/${id}/predictions`)).body.json()) as any[];
    const turns = predictions[0].results.predictions[0].models.language.grouped_predictions[0].predictions;
    expect(turns.map((p: any) => p.text)).toEqual([text]);
  });

  it(`takes two ${TEXT_MIB} MB texts in one job, completes it, echoes and serves it, staying under ${RSS_BOUND / MiB} MB`, async () => {
    async function* body() {
      yield Buffer.from('{"models":{"ner":{}},"text":["');
      for (const [i, chunk] of CHUNKS.entries()) {
        if (i > 0) yield Buffer.from('","');
        for (let n = 0; n < TEXT_MIB; n++) yield chunk;
      }
      yield Buffer.from('"]}');
    }
    const res = await api('/v0/batch/jobs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: Readable.from(body()) });
    const submitted = (await res.body.json()) as { job_id: string };
    expect(res.statusCode).toBe(200);
    await completed(2);

    const details = await api(`/v0/batch/jobs/${submitted.job_id}`);
    const job = await readJob(details.body);
    expect(job.state).toMatchObject({ status: 'COMPLETED', num_predictions: 2, num_errors: 0 });
    expect(job.texts).toEqual(CHUNKS.map((c) => ({ chars: TEXT_MIB * MiB, sha256: expectedSha(c) })));

    const predictions = await api(`/v0/batch/jobs/${submitted.job_id}/predictions`);
    expect(predictions.statusCode).toBe(200);
    const results = (await predictions.body.json()) as any[];
    const entities = results.map((r) => r.results.predictions[0].models.ner.grouped_predictions[0].predictions.map((p: any) => p.entity));
    expect(entities).toEqual([Array(TEXT_MIB).fill('Paris'), Array(TEXT_MIB).fill('Lyon')]);

    expect(peakRss).toBeGreaterThan(0);
    expect(peakRss, `peak RSS ${Math.round(peakRss / MiB)} MB`).toBeLessThan(RSS_BOUND);
  }, 180_000);
});
