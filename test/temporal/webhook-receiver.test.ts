import { Client, Connection } from '@temporalio/client';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receivedQuery } from '../fixtures/wait-forever.js';
import { type RunningReceiver, signWorkflowId, startReceiver } from '../../src/webhook/index.js';
import { connectTemporal, runFixtureWorker, type TemporalTestContext, uniqueId } from '../helpers/temporal.js';

const SECRET = 'current-secret-0123456789';
const PREVIOUS = 'previous-secret-0123456789';

describe('webhook receiver', () => {
  let temporal: TemporalTestContext;
  let worker: Awaited<ReturnType<typeof runFixtureWorker>>;
  let receiver: RunningReceiver;
  let workflowId: string;

  beforeAll(async () => {
    temporal = await connectTemporal();
    worker = await runFixtureWorker(temporal);
    receiver = await startReceiver({ client: temporal.client, secrets: [SECRET, PREVIOUS], bodyLimit: 4096 });
    workflowId = uniqueId('receiver');
    await temporal.client.workflow.start('waitForever', { taskQueue: temporal.taskQueue, workflowId });
  });

  afterAll(async () => {
    await temporal.client.workflow.getHandle(workflowId).terminate().catch(() => {});
    await receiver.close();
    await worker.stop();
    await temporal.close();
  });

  const post = (id: string, token: string, body: string | AsyncIterable<Buffer>, contentType = 'application/json') =>
    request(`${receiver.url}/hume/callback/${encodeURIComponent(id)}?token=${encodeURIComponent(token)}&key=k1`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      // undici streams any AsyncIterable, though its types list only Readable.
      body: body as string,
    });
  const callback = JSON.stringify({ job_id: 'job-1', status: 'COMPLETED', predictions: [] });
  const received = () => temporal.client.workflow.getHandle(workflowId).query(receivedQuery);

  it('signals jobFinished and answers 200 once Temporal took the signal', async () => {
    const res = await post(workflowId, signWorkflowId(workflowId, SECRET), callback);
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(await received()).toEqual([{ jobId: 'job-1', status: 'COMPLETED' }]);
  });

  it('reads job_id and status from a callback of 50 MB of predictions, past bodyLimit, without holding them', async () => {
    const entry = Buffer.from(
      JSON.stringify({
        source: { type: 'url', url: 'https://media.test/recording.mp4' },
        results: { predictions: [{ models: { prosody: { grouped_predictions: [{ id: 'u', predictions: [{ text: 'hello', emotions: [{ name: 'Joy', score: 0.5123 }] }] }] } } }] },
      }),
    );
    const count = Math.ceil((50 * 1024 * 1024) / (entry.length + 1));
    // job_id before and status after the predictions: neither may be read before the whole body is.
    async function* body() {
      yield Buffer.from('{"job_id": "job-big", "predictions": [');
      for (let i = 0; i < count; i += 1000) yield Buffer.concat(Array.from({ length: Math.min(1000, count - i) }, (_, j) => (i + j === 0 ? entry : Buffer.concat([Buffer.from(','), entry]))));
      yield Buffer.from('], "status": "COMPLETED"}');
    }
    const res = await post(workflowId, signWorkflowId(workflowId, SECRET), body());
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(await received()).toContainEqual({ jobId: 'job-big', status: 'COMPLETED' });
  });

  it('accepts the previous secret during a rotation', async () => {
    const res = await post(workflowId, signWorkflowId(workflowId, PREVIOUS), JSON.stringify({ job_id: 'job-2', status: 'FAILED' }));
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect((await received()).map((s) => s.jobId)).toContain('job-2');
  });

  it('rejects forged tokens, a token for another workflow and a missing token with 401, leaving the workflow untouched', async () => {
    const before = await received();
    for (const token of ['forged', signWorkflowId(workflowId, 'some-other-secret-123456'), signWorkflowId('other-workflow', SECRET), '']) {
      const res = await post(workflowId, token, callback);
      expect(res.statusCode).toBe(401);
      expect(await res.body.json()).toEqual({ message: 'unauthorized' });
    }
    expect(await received()).toEqual(before);
  });

  it('answers 404 for a workflow that does not exist', async () => {
    const res = await post('no-such-workflow', signWorkflowId('no-such-workflow', SECRET), callback);
    expect(res.statusCode).toBe(404);
    expect(await res.body.json()).toEqual({ message: 'not found' });
  });

  it('rejects oversized, malformed and mistyped bodies without detail, leaving the workflow untouched', async () => {
    const before = await received();
    const token = signWorkflowId(workflowId, SECRET);
    const cases: Array<[string, string, number]> = [
      [JSON.stringify({ job_id: 'big', status: 'COMPLETED', message: 'x'.repeat(10_000), predictions: [] }), 'application/json', 413],
      ['{"job_id": "broken", ', 'application/json', 400],
      [JSON.stringify({ status: 'COMPLETED' }), 'application/json', 400],
      [JSON.stringify({ job_id: 7, status: 'COMPLETED' }), 'application/json', 400],
      ['job_id=1', 'application/x-www-form-urlencoded', 415],
    ];
    for (const [body, type, status] of cases) {
      const res = await post(workflowId, token, body, type);
      expect(res.statusCode, body.slice(0, 40)).toBe(status);
      const text = await res.body.text();
      expect(text).not.toMatch(/Unexpected|JSON|position|stack|job_id/i);
    }
    expect(await received()).toEqual(before);
  });

  it('answers 405 to other methods on the callback path and 404 elsewhere', async () => {
    const token = signWorkflowId(workflowId, SECRET);
    const get = await request(`${receiver.url}/hume/callback/${workflowId}?token=${token}`);
    expect(get.statusCode).toBe(405);
    await get.body.dump();
    const elsewhere = await request(`${receiver.url}/admin`, { method: 'POST', body: '{}' });
    expect(elsewhere.statusCode).toBe(404);
    expect(await elsewhere.body.json()).toEqual({ message: 'not found' });
  });

  it('has a health endpoint', async () => {
    const res = await request(`${receiver.url}/healthz`);
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toEqual({ status: 'ok' });
  });

  it('answers 503 when Temporal cannot take the signal, so Hume retries', async () => {
    const connection = await Connection.connect({ address: temporal.address });
    const unavailable = await startReceiver({ client: new Client({ connection }), secrets: [SECRET] });
    await connection.close();
    try {
      const res = await request(`${unavailable.url}/hume/callback/${workflowId}?token=${signWorkflowId(workflowId, SECRET)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: callback,
      });
      expect(res.statusCode).toBe(503);
      expect(await res.body.json()).toEqual({ message: 'unavailable' });
    } finally {
      await unavailable.close();
    }
  });
});
