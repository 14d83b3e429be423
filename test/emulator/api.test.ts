/**
 * The v0 wire contract as the emulator speaks it: auth, validation and limits, the job state
 * machine, the request echo, multipart uploads and the list endpoint.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHumeEmulator, type HumeEmulator } from '../../src/emulator/index.js';
import { readJsonStream } from '../../src/emulator/json-intake.js';
import { HUME_LIMITS } from '../../src/hume/limits.js';
import { call, sleep, submit, waitForStatus } from './helpers.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const md5 = (data: Buffer | string): string => createHash('md5').update(data).digest('hex');

let emulator: HumeEmulator;
beforeAll(async () => {
  emulator = await startHumeEmulator({ timing: { queuedMs: [10, 30], processingMs: [10, 30] } });
});
afterAll(() => emulator.close());

describe('authentication', () => {
  it('answers 401 in the Apigee fault shape when the key is missing or wrong', async () => {
    for (const headers of [{ 'x-hume-api-key': '' }, { 'x-hume-api-key': 'wrong' }]) {
      const res = await call(emulator, '/v0/batch/jobs', { headers });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ fault: { faultstring: 'Invalid ApiKey', detail: { errorcode: 'oauth.v2.InvalidApiKey' } } });
    }
    expect((await call(emulator, '/_emulator/stats', { headers: { 'x-hume-api-key': 'wrong' } })).status).toBe(401);
  });

  it('accepts the key as X-Hume-Api-Key, as a Bearer token and as ?apiKey=', async () => {
    const bare = { 'x-hume-api-key': '' };
    expect((await call(emulator, '/v0/batch/jobs')).status).toBe(200);
    expect((await call(emulator, '/v0/batch/jobs', { headers: { ...bare, authorization: `Bearer ${emulator.apiKey}` } })).status).toBe(200);
    expect((await call(emulator, `/v0/batch/jobs?apiKey=${emulator.apiKey}`, { headers: bare })).status).toBe(200);
  });
});

describe('validation and limits', () => {
  const rejects = async (body: unknown, ...fragments: string[]): Promise<void> => {
    const res = await call(emulator, '/v0/batch/jobs', { json: body });
    expect(res.status).toBe(400);
    for (const f of fragments) expect(res.body.message).toContain(f);
  };

  it('refuses more than 100 URLs and more than 100 texts per job, naming the limit', async () => {
    await rejects({ urls: Array.from({ length: 101 }, (_, i) => `https://example.test/${i}.jpg`) }, 'maxUrlsPerJob', '100');
    await rejects({ text: Array.from({ length: 101 }, () => 'hi') }, 'maxTextsPerJob', '100');
    expect((await call(emulator, '/v0/batch/jobs', { json: { text: Array.from({ length: 100 }, () => 'hi') } })).status).toBe(200);
  });

  it('refuses a job without any source', async () => {
    await rejects({}, 'at least one');
    await rejects({ urls: [], text: [] }, 'at least one');
  });

  it('refuses bad model config, unknown models, an empty models object and non-http URLs', async () => {
    await rejects({ text: ['x'], models: { face: { prob_threshold: 2 } } }, 'models.face.prob_threshold');
    await rejects({ text: ['x'], models: { emotion: {} } }, 'models');
    await rejects({ text: ['x'], models: {} }, 'at least one model');
    await rejects({ urls: ['ftp://example.test/a.jpg'] }, 'urls[0]');
    await rejects({ text: ['x'], callback_url: 'not a url' }, 'callback_url');
    const res = await call(emulator, '/v0/batch/jobs', { body: '{not json', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
  });

  it('refuses a text over the 255 MB limit (lowered here so the test stays cheap), naming it', async () => {
    const small = await startHumeEmulator({ limits: { maxTextBytes: 1000 } });
    try {
      const res = await call(small, '/v0/batch/jobs', { json: { text: ['ok', 'é'.repeat(501)] } });
      expect(res.status).toBe(400);
      expect(res.body.message).toContain('text[1]');
      expect(res.body.message).toContain('maxTextBytes');
      expect((await call(small, '/v0/batch/jobs', { json: { text: ['é'.repeat(500)] } })).status).toBe(200);
    } finally {
      await small.close();
    }
  });

  it('never lets options raise a Hume limit', async () => {
    await expect(startHumeEmulator({ limits: { maxUrlsPerJob: 101 } })).rejects.toThrow(/limits\.maxUrlsPerJob/);
    await expect(startHumeEmulator({ timing: { queuedMs: [5, 1] } })).rejects.toThrow(/timing\.queuedMs/);
  });

  it('refuses more than 100 uploaded files', async () => {
    const form = new FormData();
    for (let i = 0; i <= HUME_LIMITS.maxFilesPerJob; i++) form.append('file', new Blob([`f${i}`]), `f${i}.txt`);
    const res = await call(emulator, '/v0/batch/jobs', { body: form });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('maxFilesPerJob');
  });

  it('streams uploads: a 100 MB file is accepted with its md5, one byte more is refused naming file and limit', async () => {
    const upload = async (size: number) => {
      const boundary = 'emulator-test-boundary';
      const zeros = Buffer.alloc(1024 * 1024);
      const expected = createHash('md5');
      async function* body() {
        yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\nContent-Type: audio/wav\r\n\r\n`);
        for (let left = size; left > 0; left -= zeros.length) {
          const chunk = left >= zeros.length ? zeros : zeros.subarray(0, left);
          expected.update(chunk);
          yield chunk;
        }
        yield Buffer.from(`\r\n--${boundary}--\r\n`);
      }
      const res = await request(`${emulator.url}/v0/batch/jobs`, {
        method: 'POST',
        headers: { 'x-hume-api-key': emulator.apiKey, 'content-type': `multipart/form-data; boundary=${boundary}` },
        body: Readable.from(body()),
      });
      return { status: res.statusCode, body: (await res.body.json()) as any, md5: expected.digest('hex') };
    };
    const max = HUME_LIMITS.maxLocalFileBytes;
    const ok = await upload(max);
    expect(ok.status).toBe(200);
    const job = await waitForStatus(emulator, ok.body.job_id);
    expect(job.request.files).toEqual([{ filename: 'big.wav', content_type: 'audio/wav', md5sum: ok.md5 }]);

    const tooBig = await upload(max + 1);
    expect(tooBig.status).toBe(400);
    expect(tooBig.body.message).toContain('"big.wav"');
    expect(tooBig.body.message).toContain('maxLocalFileBytes');
  });
});

describe('job state machine', () => {
  it('goes QUEUED → IN_PROGRESS → COMPLETED on the configured timing, and predictions wait for it', async () => {
    const slow = await startHumeEmulator({ timing: { queuedMs: 300, processingMs: 300 } });
    try {
      const id = await submit(slow, { text: ['hello'] });
      expect(id).toMatch(UUID_V4);
      const queued = (await call(slow, `/v0/batch/jobs/${id}`)).body;
      expect(queued.state).toEqual({ status: 'QUEUED', created_timestamp_ms: expect.any(Number) });
      expect(await call(slow, `/v0/batch/jobs/${id}/predictions`)).toMatchObject({ status: 400, body: { message: 'Job is still queued' } });
      expect(await call(slow, `/v0/batch/jobs/${id}/artifacts`)).toMatchObject({ status: 400, body: { message: 'Job is still queued' } });

      const running = await waitForStatus(slow, id, ['IN_PROGRESS']);
      expect(Object.keys(running.state).sort()).toEqual(['created_timestamp_ms', 'started_timestamp_ms', 'status']);
      expect(await call(slow, `/v0/batch/jobs/${id}/predictions`)).toMatchObject({ status: 400, body: { message: 'Job is still in progress' } });

      const done = await waitForStatus(slow, id);
      const s = done.state;
      expect(s).toEqual({
        status: 'COMPLETED', created_timestamp_ms: expect.any(Number), started_timestamp_ms: expect.any(Number),
        ended_timestamp_ms: expect.any(Number), num_predictions: 1, num_errors: 0,
      });
      expect(s.started_timestamp_ms - s.created_timestamp_ms).toBeGreaterThanOrEqual(280);
      expect(s.ended_timestamp_ms - s.started_timestamp_ms).toBeGreaterThanOrEqual(280);
      expect((await call(slow, `/v0/batch/jobs/${id}/predictions`)).status).toBe(200);
    } finally {
      await slow.close();
    }
  });

  it('draws timings from the seed, so the same seed replays the same durations', async () => {
    const durations = async (seed: number): Promise<number[]> => {
      const e = await startHumeEmulator({ seed, timing: { queuedMs: [50, 800], processingMs: 0 } });
      try {
        const ids = [await submit(e, { text: ['a'] }), await submit(e, { text: ['b'] })];
        const jobs = await Promise.all(ids.map((id) => waitForStatus(e, id, ['IN_PROGRESS', 'COMPLETED'])));
        return jobs.map((j) => j.state.started_timestamp_ms - j.state.created_timestamp_ms);
      } finally {
        await e.close();
      }
    };
    const [a, b] = await Promise.all([durations(7), durations(7)]);
    a.forEach((d, i) => expect(Math.abs(d - (b[i] ?? 0))).toBeLessThan(60));
  });

  it('answers 404 {"message":"job not found"} for an unknown id', async () => {
    for (const suffix of ['', '/predictions', '/artifacts']) {
      const res = await call(emulator, `/v0/batch/jobs/00000000-0000-4000-8000-000000000000${suffix}`);
      expect(res).toMatchObject({ status: 404, body: { message: 'job not found' } });
    }
  });
});

describe('request echo', () => {
  it('fills every model with its defaults when models is omitted, with explicit nulls (§3.1)', async () => {
    const id = await submit(emulator, { urls: ['https://hume-tutorials.s3.amazonaws.com/faces.zip'], notify: true });
    const { request: echoed } = (await call(emulator, `/v0/batch/jobs/${id}`)).body;
    expect(echoed).toEqual({
      callback_url: null,
      files: [],
      models: {
        burst: {},
        face: { descriptions: null, facs: null, fps_pred: 3, identify_faces: false, min_face_size: 60, prob_threshold: 0.99, save_faces: false },
        facemesh: {},
        language: { granularity: 'word', identify_speakers: false, sentiment: null, toxicity: null },
        ner: { identify_speakers: false },
        prosody: { granularity: 'utterance', identify_speakers: false, window: null },
      },
      notify: true,
      text: [],
      urls: ['https://hume-tutorials.s3.amazonaws.com/faces.zip'],
    });
  });

  it('echoes unrequested models as null, given toggles and windows filled, transcription as sent', async () => {
    const id = await submit(emulator, {
      text: ['hi'],
      models: { language: { sentiment: {}, granularity: 'sentence' }, prosody: { window: { length: 2 } } },
      transcription: { language: 'fr' },
      callback_url: 'http://127.0.0.1:9/cb',
    });
    const { request: echoed } = (await call(emulator, `/v0/batch/jobs/${id}`)).body;
    expect(echoed.models).toEqual({
      face: null, burst: null, ner: null, facemesh: null,
      language: { granularity: 'sentence', identify_speakers: false, sentiment: {}, toxicity: null },
      prosody: { granularity: 'utterance', identify_speakers: false, window: { length: 2, step: 1 } },
    });
    expect(echoed.transcription).toEqual({ language: 'fr', identify_speakers: false, confidence_threshold: 0.5 });
    expect(echoed).toMatchObject({ urls: [], text: ['hi'], files: [], callback_url: 'http://127.0.0.1:9/cb', notify: false });

    const off = await submit(emulator, { text: ['hi'], transcription: null });
    expect((await call(emulator, `/v0/batch/jobs/${off}`)).body.request.transcription).toBeNull();
  });
});

describe('JSON intake (streamed: texts go to disk as they arrive)', () => {
  const raw = (body: string) => call(emulator, '/v0/batch/jobs', { body, headers: { 'content-type': 'application/json' } });

  it('decodes escapes (an emoji as a surrogate pair too) to the same text and scores as the unescaped form', async () => {
    // What Python's json.dumps sends by default: ASCII only, an emoji as two \u escapes.
    const escaped = await raw(String.raw`{"text":["caf\u00e9 \ud83d\ude00 \"quoted\"\n"],"models":{"language":{}}}`);
    expect(escaped.status).toBe(200);
    const plain = await submit(emulator, { text: ['café 😀 "quoted"\n'], models: { language: {} } });
    const [a, b] = await Promise.all([waitForStatus(emulator, escaped.body.job_id), waitForStatus(emulator, plain)]);
    expect(a.request.text).toEqual(['café 😀 "quoted"\n']);
    const scores = async (id: string) => (await call(emulator, `/v0/batch/jobs/${id}/predictions`)).body[0].results;
    expect(await scores(a.job_id)).toEqual(await scores(b.job_id));
  });

  it('writes each text byte-exact however the body is cut: one byte per chunk, inside emoji and escapes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'intake-'));
    try {
      const texts = ['😀'.repeat(300), 'a\u00e9\ud83d\ude00'];
      const body = Buffer.from(`{"models":null,"text":["${texts[0]}","${texts[1]}"],"notify":true}`);
      const bytes = Readable.from(Array.from(body, (b) => Buffer.of(b)));
      const got = await readJsonStream(bytes, 'the body', dir, HUME_LIMITS);
      expect(got.value).toEqual({ models: null, text: ['', ''], notify: true });
      const expected = [texts[0]!, 'aé😀'];
      expect(await Promise.all(got.texts.map((t) => readFile(t.path, 'utf8')))).toEqual(expected);
      expect(got.texts.map((t) => t.sha256)).toEqual(expected.map((t) => createHash('sha256').update(t).digest('hex')));
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('names the body when it is not JSON, and refuses an absurdly long string outside text[]', async () => {
    expect(await raw('{"text": ["unterminated')).toMatchObject({ status: 400, body: { message: expect.stringContaining('the body is not valid JSON') } });
    const long = await call(emulator, '/v0/batch/jobs', { json: { text: ['x'], callback_url: `http://127.0.0.1/${'a'.repeat(1_100_000)}` } });
    expect(long).toMatchObject({ status: 400, body: { message: expect.stringContaining('outside text[]') } });
  });

  it('keeps each job in its own folder under dataDir: texts and predictions stay, uploads go once predicted', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'emulator-data-'));
    const e = await startHumeEmulator({ dataDir, timing: { queuedMs: 0, processingMs: 0 } });
    try {
      const form = new FormData();
      form.append('json', new Blob([JSON.stringify({ text: ['from the json part'], models: { language: {} } })]), 'json');
      form.append('file', new Blob(['some words']), 'notes.txt');
      const res = await call(e, '/v0/batch/jobs', { body: form });
      const job = await waitForStatus(e, res.body.job_id);
      expect(job.request.text).toEqual(['from the json part']);
      expect(job.request.files).toEqual([{ filename: 'notes.txt', content_type: 'application/octet-stream', md5sum: md5('some words') }]);
      expect((await readdir(join(dataDir, job.job_id))).sort()).toEqual(['predictions.json', 'text-0.txt']);

      expect((await call(e, '/v0/batch/jobs', { json: { text: ['no models'], models: {} } })).status).toBe(400);
      expect(await readdir(dataDir)).toEqual([job.job_id]); // a refused submit leaves nothing behind
    } finally {
      await e.close();
    }
    expect(await readdir(dataDir)).toHaveLength(1); // a given dataDir is the caller's: kept on close
    await rm(dataDir, { recursive: true });
  });
});

describe('multipart uploads', () => {
  const png = Buffer.from('not really a png, but bytes all the same');
  const wav = Buffer.from('RIFF....WAVE');

  it('takes json as a text field before the files, and reports each file with its md5sum', async () => {
    const form = new FormData();
    form.append('json', JSON.stringify({ models: { face: {} } }));
    form.append('file', new Blob([png], { type: 'image/png' }), 'face.png');
    form.append('file', new Blob([wav], { type: 'audio/wav' }), 'voice.wav');
    const res = await call(emulator, '/v0/batch/jobs', { body: form });
    expect(res.status).toBe(200);
    const job = await waitForStatus(emulator, res.body.job_id);
    expect(job.request.files).toEqual([
      { filename: 'face.png', content_type: 'image/png', md5sum: md5(png) },
      { filename: 'voice.wav', content_type: 'audio/wav', md5sum: md5(wav) },
    ]);
    expect(job.request.models.face).not.toBeNull();
    expect(job.request.models.prosody).toBeNull();
    const preds = (await call(emulator, `/v0/batch/jobs/${res.body.job_id}/predictions`)).body;
    expect(preds[0].source).toEqual({ type: 'file', filename: 'face.png', content_type: 'image/png', md5sum: md5(png) });
    expect(preds[0].results.predictions[0].file).toBe('face.png');
  });

  it('takes json as a file part after the files (the Python SDK way)', async () => {
    const form = new FormData();
    form.append('file', new Blob([wav], { type: 'audio/wav' }), 'voice.wav');
    form.append('json', new Blob([JSON.stringify({ models: { prosody: { granularity: 'word' } } })], { type: 'application/json' }), 'upload');
    const res = await call(emulator, '/v0/batch/jobs', { body: form });
    expect(res.status).toBe(200);
    const { request: echoed } = (await call(emulator, `/v0/batch/jobs/${res.body.job_id}`)).body;
    expect(echoed.models.prosody.granularity).toBe('word');
    expect(echoed.models.face).toBeNull();
    expect(echoed.files).toHaveLength(1);
  });

  it('runs every model when there is no json part, and names a file without filename "file"', async () => {
    const form = new FormData();
    form.append('file', 'raw bytes without a filename');
    const res = await call(emulator, '/v0/batch/jobs', { body: form });
    expect(res.status).toBe(200);
    const { request: echoed } = (await call(emulator, `/v0/batch/jobs/${res.body.job_id}`)).body;
    expect(Object.values(echoed.models).every((m) => m !== null)).toBe(true);
    expect(echoed.files[0]).toMatchObject({ filename: 'file', md5sum: md5('raw bytes without a filename') });
  });

  it('refuses an unparseable json part and a multipart body without files or sources', async () => {
    const bad = new FormData();
    bad.append('json', '{oops');
    bad.append('file', new Blob([png]), 'a.png');
    expect(await call(emulator, '/v0/batch/jobs', { body: bad })).toMatchObject({ status: 400, body: { message: expect.stringContaining('json part') } });
    const empty = new FormData();
    empty.append('json', '{}');
    expect((await call(emulator, '/v0/batch/jobs', { body: empty })).status).toBe(400);
  });
});

describe('list endpoint', () => {
  let lister: HumeEmulator;
  const ids: string[] = [];
  beforeAll(async () => {
    lister = await startHumeEmulator({ timing: { queuedMs: 0, processingMs: 0 } });
    lister.failNextJobs(1, 'quota');
    for (let i = 0; i < 6; i++) {
      ids.push(await submit(lister, { text: [`job ${i}`] }));
      await sleep(3); // distinct created_timestamp_ms, so paging by timestamp is exact
    }
    await Promise.all(ids.map((id) => waitForStatus(lister, id)));
  });
  afterAll(() => lister.close());

  const list = async (query: string): Promise<any[]> => {
    const res = await call(lister, `/v0/batch/jobs${query}`);
    expect(res.status).toBe(200);
    return res.body;
  };

  it('lists newest first by default and honours limit', async () => {
    expect((await list('')).map((j) => j.job_id)).toEqual([...ids].reverse());
    expect((await list('?limit=2')).map((j) => j.job_id)).toEqual([ids[5], ids[4]]);
    expect((await list('?direction=asc&limit=2')).map((j) => j.job_id)).toEqual([ids[0], ids[1]]);
  });

  it('filters by repeated status', async () => {
    expect((await list('?status=FAILED')).map((j) => j.job_id)).toEqual([ids[0]]);
    expect(await list('?status=FAILED&status=COMPLETED')).toHaveLength(6);
    expect(await list('?status=QUEUED')).toHaveLength(0);
  });

  it('pages with when + timestamp_ms, as a client without page tokens must', async () => {
    const seen: string[] = [];
    let page = await list('?limit=4');
    while (page.length > 0) {
      seen.push(...page.map((j) => j.job_id));
      const oldest = page[page.length - 1].state.created_timestamp_ms;
      page = await list(`?limit=4&when=created_before&timestamp_ms=${oldest}`);
    }
    expect(seen).toEqual([...ids].reverse());
    const first = (await list("?direction=asc&limit=1"))[0];
    const after = await list(`?when=created_after&timestamp_ms=${first.state.created_timestamp_ms}&direction=asc`);
    expect(after.map((j) => j.job_id)).toEqual(ids.slice(1));
  });

  it('sorts by started and ended timestamps', async () => {
    for (const sortBy of ['started', 'ended'] as const) {
      const jobs = await list(`?sort_by=${sortBy}&direction=asc`);
      const times = jobs.map((j) => j.state[`${sortBy}_timestamp_ms`]);
      expect(times).toEqual([...times].sort((a, b) => a - b));
    }
  });

  it('defaults limit to 50', async () => {
    const many = await startHumeEmulator();
    try {
      for (let i = 0; i < 55; i++) await submit(many, { text: ['x'] });
      expect((await call(many, '/v0/batch/jobs')).body).toHaveLength(50);
    } finally {
      await many.close();
    }
  });

  it('keeps thousands of jobs: all complete, and listing them stays quick', async () => {
    const many = await startHumeEmulator({ maxQueuedJobs: 5_000, timing: { queuedMs: 0, processingMs: 0 } });
    try {
      // 100 submits in flight at a time: the point is the job count, not 3,000 open connections.
      const ids: string[] = [];
      for (let batch = 0; batch < 30; batch++) {
        ids.push(...await Promise.all(Array.from({ length: 100 }, (_, i) => submit(many, { text: [`job ${batch * 100 + i}`] }))));
      }
      while (many.stats().jobsCompleted < ids.length) await sleep(20);
      const started = Date.now();
      const done = (await call(many, '/v0/batch/jobs?status=COMPLETED&limit=5000')).body;
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(done).toHaveLength(3_000);
      expect(many.stats()).toMatchObject({ jobsCreated: 3_000, jobsCompleted: 3_000 });
    } finally {
      await many.close();
    }
  });

  it('refuses unknown filter values', async () => {
    for (const q of ['?status=DONE', '?sort_by=name', '?direction=up', '?when=yesterday', '?limit=abc']) {
      expect((await call(lister, `/v0/batch/jobs${q}`)).status).toBe(400);
    }
  });
});
