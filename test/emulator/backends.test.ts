/**
 * Model backends: per model, predictions come from a real backend instead of the synthetic
 * builders. Here a tiny model server of the test's own (loopback, port 0) scores texts by
 * counting their words, so every score is checkable; its failures must become per-file errors
 * naming the cause, with the job COMPLETED and nothing left hanging.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  parseBackendSpecs, startHumeEmulator, type HumeEmulator, type HumeEmulatorOptions, type ModelBackend,
} from '../../src/emulator/index.js';
import { describeBackends } from '../../src/emulator/backends/index.js';
import { call, localServer, spawnEmulator, submit, waitForStatus, type Received } from './helpers.js';
import { writeZip } from './fixtures/media.js';

/** The model server's rule: one language prediction per text, scored by its word count. */
const words = (text: string): number => text.split(/\s+/).filter(Boolean).length;
const scored = (text: string) => ({
  metadata: null,
  grouped_predictions: [{ id: 'unknown', predictions: [{
    text, position: { begin: 0, end: text.length }, time: null, emotions: [{ name: 'Words', score: words(text) }],
  }] }],
});
/** Face on an image: the box's width is the number of bytes received, so the bytes are checked to have arrived. */
const boxed = (bytes: Buffer) => ({
  metadata: null,
  grouped_predictions: [{ id: 'unknown', predictions: [{
    frame: 0, time: 0, prob: 1, box: { x: 0, y: 0, w: bytes.length, h: 1 }, emotions: [{ name: bytes.toString('utf8'), score: 1 }],
  }] }],
});

/** Paths of the model server: each one a behaviour. `/flaky` fails its first call of each file, then answers. */
const seen = new Map<string, number>();
function modelServer(req: Received, res: ServerResponse): void {
  const body = JSON.parse(req.body.toString('utf8')) as { file: string; text?: string; data_base64?: string };
  const reply = (status: number, json: unknown): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
  switch (req.url) {
    case '/words': return reply(200, scored(body.text ?? ''));
    case '/bytes': return reply(200, boxed(Buffer.from(body.data_base64 ?? '', 'base64')));
    case '/flaky': {
      const n = (seen.get(body.file) ?? 0) + 1;
      seen.set(body.file, n);
      return n === 1 ? reply(503, { error: 'warming up' }) : reply(200, scored(body.text ?? ''));
    }
    case '/down': return reply(500, { error: 'model crashed' });
    case '/refuses': return reply(200, { error: 'text too short to score' });
    case '/garbage': return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"grouped_predictions": [');
    case '/malformed': return reply(200, { metadata: null, grouped_predictions: [{ id: 'unknown', predictions: [{ text: 'x' }] }] });
    case '/bad-request': return reply(400, { error: 'config.granularity is not supported' });
    case '/silent': return; // never answers: the request times out
    default: return reply(404, { error: 'no such model' });
  }
}

let models: Awaited<ReturnType<typeof localServer>>;
let dir: string;
beforeAll(async () => {
  models = await localServer(modelServer);
  dir = await mkdtemp(join(tmpdir(), 'backends-'));
});
afterAll(async () => {
  await models.close();
  await rm(dir, { recursive: true, force: true });
});

const FAST = { timing: { queuedMs: 0, processingMs: 0 }, httpBackend: { timeoutMs: 300, retries: 2, backoffMs: 10 } } satisfies HumeEmulatorOptions;

/** An emulator for one test, closed after it. */
async function withEmulator<T>(options: HumeEmulatorOptions, fn: (emulator: HumeEmulator) => Promise<T>): Promise<T> {
  const emulator = await startHumeEmulator({ ...FAST, ...options });
  try {
    return await fn(emulator);
  } finally {
    await emulator.close();
  }
}

/** Submits, waits for the end, and returns the job's status with its one source's results. */
async function run(emulator: HumeEmulator, request: unknown) {
  const id = await submit(emulator, request);
  const job = await waitForStatus(emulator, id);
  const predictions = (await call<any[]>(emulator, `/v0/batch/jobs/${id}/predictions`)).body;
  return { status: job.state.status as string, results: predictions.map((p) => p.results) };
}

const requestsTo = (path: string) => models.received.filter((r) => r.url === path);

describe('backend specs', () => {
  it('parses MODEL=BACKEND specs', () => {
    expect(parseBackendSpecs(['face=face-api', 'language=http://127.0.0.1:9000/predict', 'burst=synthetic'])).toEqual({
      face: 'face-api', language: 'http://127.0.0.1:9000/predict', burst: 'synthetic',
    });
  });

  it.each([
    ['nope=x', 'invalid --backend "nope=x": unknown model "nope" (models: face, burst, prosody, language, ner, facemesh)'],
    ['language', 'invalid --backend "language": expected MODEL=BACKEND, e.g. face=face-api or language=http://127.0.0.1:9000/predict'],
    ['language=face-api', 'invalid --backend "language=face-api": face-api is a backend for face only'],
    ['language=ftp://host/x', 'invalid --backend "language=ftp://host/x": expected synthetic, face-api or an http(s):// URL, got "ftp://host/x"'],
    ['language=http://', 'invalid --backend "language=http://": not a valid URL: http://'],
  ])('refuses %s in one line', (spec, line) => {
    expect(() => parseBackendSpecs([spec])).toThrow(line);
  });

  it('never echoes a model server\'s credentials or query in a refusal', () => {
    expect(() => parseBackendSpecs(['language=http://user:secret@[bad/predict?token=abc'])).toThrow(/^invalid --backend "language=http:\/\/\[redacted\]@\[bad\/predict\?\[redacted\]": /);
  });

  it('refuses model server timings a timer cannot hold', async () => {
    await expect(startHumeEmulator({ backends: { language: 'http://127.0.0.1:9/p' }, httpBackend: { timeoutMs: 1.5 } })).rejects.toThrow(/httpBackend\.timeoutMs/);
    await expect(startHumeEmulator({ backends: { language: 'http://127.0.0.1:9/p' }, httpBackend: { timeoutMs: 3e9 } })).rejects.toThrow(/httpBackend\.timeoutMs/);
  });

  it('refuses a model given twice', () => {
    expect(() => parseBackendSpecs(['face=synthetic', 'face=face-api'])).toThrow('invalid --backend "face=face-api": face is given a backend twice');
  });

  it('refuses bad options naming the model', async () => {
    await expect(startHumeEmulator({ backends: { ner: 'face-api' } })).rejects.toThrow('invalid emulator option backends.ner: face-api is a backend for face only');
    await expect(startHumeEmulator({ backends: { nope: 'synthetic' } as never })).rejects.toThrow(
      'invalid emulator option backends: unknown model "nope" (models: face, burst, prosody, language, ner, facemesh)',
    );
  });
});

describe('reporting which models are real', () => {
  it('answers GET /v0/info without the API key, never showing it or a model server\'s credentials', async () => {
    const secretUrl = `http://user:s3cret@127.0.0.1:1/score?token=t0ken`;
    await withEmulator({ apiKey: 'the-api-key', backends: { language: secretUrl } }, async (emulator) => {
      const res = await fetch(`${emulator.url}/v0/info`);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).not.toMatch(/the-api-key|s3cret|t0ken|user/);
      const info = JSON.parse(text) as { version: string; backends: unknown[] };
      expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(info.backends).toEqual(emulator.backends());
      expect(info.backends).toEqual([
        { model: 'face', backend: 'synthetic', real: false },
        { model: 'burst', backend: 'synthetic', real: false },
        { model: 'prosody', backend: 'synthetic', real: false },
        expect.objectContaining({ model: 'language', backend: 'http://127.0.0.1:1/score', real: true }),
        { model: 'ner', backend: 'synthetic', real: false },
        { model: 'facemesh', backend: 'synthetic', real: false },
      ]);
    });
  });

  it('says which models are real on the startup line', async () => {
    const logged: string[] = [];
    const logger = { info: (m: string) => logged.push(m), warn: () => {} };
    await withEmulator({ logger, backends: { language: `${models.url}/words` } }, async (emulator) => {
      expect(logged).toEqual([`listening on ${emulator.url}`, `backends: language=${models.url}/words (real), others synthetic`]);
    });
    expect(describeBackends([{ model: 'face', backend: 'synthetic', real: false }])).toBe('backends: all synthetic');
    expect(describeBackends([{ model: 'face', backend: 'face-api', real: true, labels: ['happy', 'sad'] }]))
      .toBe('backends: face=face-api (real, 2 expressions)');
  });
});

describe('an HTTP model server as the language backend', () => {
  it('puts the model server\'s scores in the predictions, beside synthetic models, with the documented request', async () => {
    const before = requestsTo('/words').length;
    const texts = ['one two three', 'a b c d e f g'];
    await withEmulator({ backends: { language: `${models.url}/words` } }, async (emulator) => {
      const { status, results } = await run(emulator, { models: { language: { sentiment: {} }, ner: {} }, text: texts });
      expect(status).toBe('COMPLETED');
      expect(results.map((r) => r.errors)).toEqual([[], []]);
      for (const [i, text] of texts.entries()) {
        const models = results[i].predictions[0].models;
        expect(models.language).toEqual(scored(text));
        expect(Object.keys(models)).toEqual(['language', 'ner']); // ner stays synthetic
      }
    });
    const sent = requestsTo('/words').slice(before).map((r) => JSON.parse(r.body.toString('utf8')));
    expect(sent).toEqual(texts.map((text) => ({
      model: 'language', file: 'text', kind: 'text', content_type: null,
      config: { sentiment: {} }, text, // the options as sent, no defaults filled in
    })));
  });

  it('retries a 5xx and then uses the answer', async () => {
    const before = requestsTo('/flaky').length;
    await withEmulator({ backends: { language: `${models.url}/flaky` } }, async (emulator) => {
      const { status, results } = await run(emulator, { models: { language: {} }, text: ['retry me please'] });
      expect(status).toBe('COMPLETED');
      expect(results[0]).toEqual({ predictions: [expect.objectContaining({ models: { language: scored('retry me please') } })], errors: [] });
    });
    expect(requestsTo('/flaky').length - before).toBe(2);
  });

  it.each([
    ['/down', 'answered 500: model crashed (3 attempts)', 3],
    ['/silent', 'no answer within 300 ms (3 attempts)', 3],
    ['/garbage', 'answered invalid JSON', 1],
    ['/malformed', 'answered a malformed prediction (grouped_predictions.0.predictions.0.position:', 1],
    ['/refuses', 'text too short to score', 1],
    ['/bad-request', 'answered 400: config.granularity is not supported', 1],
  ])('turns %s into a per-file error naming the server and the cause; the job completes', async (path, cause, attempts) => {
    const before = requestsTo(path).length;
    const started = Date.now();
    await withEmulator({ backends: { language: `${models.url}${path}` } }, async (emulator) => {
      const { status, results } = await run(emulator, { models: { language: {}, ner: {} }, text: ['Maria was here'] });
      expect(status).toBe('COMPLETED');
      const [{ predictions, errors }] = results;
      expect(errors).toEqual([{ message: expect.stringContaining(`language model server ${models.url}${path}: ${cause}`), file: 'text' }]);
      // The failed model is left out of the file; the synthetic one stays.
      expect(Object.keys(predictions[0].models)).toEqual(['ner']);
    });
    expect(requestsTo(path).length - before).toBe(attempts);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('gives a file no prediction entry when no model produced output, and counts the error', async () => {
    await withEmulator({ backends: { language: `${models.url}/down` } }, async (emulator) => {
      const id = await submit(emulator, { models: { language: {} }, text: ['nobody scores this'] });
      const job = await waitForStatus(emulator, id);
      expect(job.state).toMatchObject({ status: 'COMPLETED', num_errors: 1 });
      const [source] = (await call<any[]>(emulator, `/v0/batch/jobs/${id}/predictions`)).body;
      expect(source.results.predictions).toEqual([]);
      expect(source.results.errors).toEqual([{ message: expect.stringContaining('answered 500'), file: 'text' }]);
    });
  });

  it('ends a job quickly when the model server is unreachable', async () => {
    const gone = await localServer();
    const url = `${gone.url}/predict`;
    await gone.close();
    await withEmulator({ backends: { language: url } }, async (emulator) => {
      const { status, results } = await run(emulator, { models: { language: {} }, text: ['hello'] });
      expect(status).toBe('COMPLETED');
      expect(results[0].errors).toEqual([{ message: `language model server ${url}: connection failed (ECONNREFUSED) (3 attempts)`, file: 'text' }]);
    });
  });
});

describe('a backend object given in code', () => {
  it('answers for its model; a throw fails only its file; the emulator leaves the object open', async () => {
    let closed = false;
    const backend: ModelBackend = {
      info: () => ({ model: 'language', backend: 'in-test', real: true }),
      predict: async (source) => {
        const text = await readFile(source.path ?? '', 'utf8');
        if (text === 'boom') throw new Error('kaboom\n    at predict');
        return { output: scored(text) };
      },
      close: async () => {
        closed = true;
      },
    };
    await withEmulator({ backends: { language: backend } }, async (emulator) => {
      expect(emulator.backends()).toContainEqual({ model: 'language', backend: 'in-test', real: true });
      const { status, results } = await run(emulator, { models: { language: {} }, text: ['fine words', 'boom'] });
      expect(status).toBe('COMPLETED');
      expect(results[0].predictions[0].models).toEqual({ language: scored('fine words') });
      expect(results[1]).toEqual({ predictions: [], errors: [{ message: 'language backend in-test failed: kaboom', file: 'text' }] });
    });
    expect(closed).toBe(false);
  });

  it('fails only the file of a backend that answers something other than a prediction or {error}', async () => {
    const backend: ModelBackend = {
      info: () => ({ model: 'language', backend: 'sloppy', real: true }),
      predict: async (source) => {
        const text = await readFile(source.path ?? '', 'utf8');
        return (text === 'nothing' ? undefined : { output: { nope: 1 } }) as never;
      },
    };
    await withEmulator({ backends: { language: backend } }, async (emulator) => {
      const { status, results } = await run(emulator, { models: { language: {} }, text: ['nothing', 'shapeless'] });
      expect(status).toBe('COMPLETED');
      for (const r of results) {
        expect(r.predictions).toEqual([]);
        expect(r.errors[0].message).toMatch(/^language backend sloppy failed: answered a malformed prediction \(/);
      }
    });
  });

  it('lets the emulator close while a backend never answers', async () => {
    const backend: ModelBackend = { info: () => ({ model: 'language', backend: 'silent', real: true }), predict: () => new Promise(() => {}) };
    const emulator = await startHumeEmulator({ ...FAST, backends: { language: backend } });
    await submit(emulator, { models: { language: {} }, text: ['anyone there?'] });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const closed = await Promise.race([emulator.close().then(() => 'closed'), new Promise((resolve) => setTimeout(resolve, 5_000, 'still open'))]);
    expect(closed).toBe('closed');
  });
});

describe('media to a backend', () => {
  it('sends an archive\'s image entries with their bytes; texts inside stay synthetic', async () => {
    const zip = join(dir, 'faces.zip');
    await writeZip(zip, { 'faces/a.jpg': 'jpeg bytes of A', 'faces/b.png': 'png bytes, B', 'notes/hi.txt': 'hi there' });
    const before = requestsTo('/bytes').length;
    await withEmulator({ backends: { face: `${models.url}/bytes` } }, async (emulator) => {
      const form = new FormData();
      form.append('json', JSON.stringify({ models: { face: { prob_threshold: 0.5 }, language: {} } }));
      form.append('file', new Blob([await readFile(zip)]), 'faces.zip');
      const id = (await call<{ job_id: string }>(emulator, '/v0/batch/jobs', { body: form })).body.job_id;
      expect((await waitForStatus(emulator, id)).state.status).toBe('COMPLETED');
      const [source] = (await call<any[]>(emulator, `/v0/batch/jobs/${id}/predictions`)).body;
      const byFile = Object.fromEntries(source.results.predictions.map((p: any) => [p.file, p.models]));
      expect(byFile['faces/a.jpg']).toEqual({ face: boxed(Buffer.from('jpeg bytes of A')) });
      expect(byFile['faces/b.png']).toEqual({ face: boxed(Buffer.from('png bytes, B')) });
      expect(Object.keys(byFile['notes/hi.txt'])).toEqual(['language']);
      expect(source.results.errors).toEqual([]);
    });
    const sent = requestsTo('/bytes').slice(before).map((r) => JSON.parse(r.body.toString('utf8')));
    expect(sent.map((s) => [s.file, s.kind, s.config.prob_threshold])).toEqual([['faces/a.jpg', 'image', 0.5], ['faces/b.png', 'image', 0.5]]);
  });

  it('answers an unfetched URL (no bytes) with a per-file error, without calling the model server', async () => {
    const before = requestsTo('/bytes').length;
    await withEmulator({ backends: { face: `${models.url}/bytes` } }, async (emulator) => {
      const { results } = await run(emulator, { models: { face: {} }, urls: ['https://example.test/portrait.jpg'] });
      expect(results[0]).toEqual({
        predictions: [],
        errors: [{ message: `face model server ${models.url}/bytes: no bytes to send for portrait.jpg (a URL the emulator does not fetch; see fetchUrls)`, file: 'portrait.jpg' }],
      });
    });
    expect(requestsTo('/bytes').length).toBe(before);
  });

  it('refuses a file over the size limit, naming the limit', async () => {
    await withEmulator({ backends: { face: `${models.url}/bytes` }, httpBackend: { ...FAST.httpBackend, maxFileBytes: 4 } }, async (emulator) => {
      const form = new FormData();
      form.append('json', JSON.stringify({ models: { face: {} } }));
      form.append('file', new Blob(['12345']), 'big.jpg');
      const id = (await call<{ job_id: string }>(emulator, '/v0/batch/jobs', { body: form })).body.job_id;
      await waitForStatus(emulator, id);
      const [source] = (await call<any[]>(emulator, `/v0/batch/jobs/${id}/predictions`)).body;
      expect(source.results.errors).toEqual([{ message: `face model server ${models.url}/bytes: big.jpg is 5 bytes, over the 4-byte limit for model servers`, file: 'big.jpg' }]);
    });
  });
});

describe('the emulator and demo commands', () => {
  const cli = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
  const runCli = (args: string[]) => new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });

  it('refuses a bad --backend with one line and exit code 2', async () => {
    const { code, stdout, stderr } = await runCli(['emulator', '--port', '0', '--backend', 'nope=x']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe('emulator: invalid --backend "nope=x": unknown model "nope" (models: face, burst, prosody, language, ner, facemesh)\n');
  });

  it('demo refuses a bad --backend before starting anything', async () => {
    const { code, stdout, stderr } = await runCli(['demo', '--backend', 'prosody=face-api']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe('temporal-hume: invalid --backend "prosody=face-api": face-api is a backend for face only\n');
  });

  it('prints the listening line on stdout and the backends line on stderr', async () => {
    const emulator = await spawnEmulator(cli, ['emulator', '--port', '0', '--backend', `language=${models.url}/words`]);
    const { url } = emulator;
    const info = (await (await fetch(`${url}/v0/info`)).json()) as { backends: { model: string; real: boolean }[] };
    expect(await emulator.stop()).toBe(0);
    expect(emulator.stdout()).toBe(`listening on ${url}\n`);
    expect(info.backends.filter((b) => b.real).map((b) => b.model)).toEqual(['language']);
    expect(emulator.stderr().split('\n')[0]).toBe(`backends: language=${models.url}/words (real), others synthetic`);
  });
});
