/** Callbacks: body on COMPLETED and FAILED, retries, drops, duplicates, delays, HMAC signing. */
import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startHumeEmulator, type HumeEmulator, type HumeEmulatorOptions } from '../../src/emulator/index.js';
import { call, localServer, sleep, submit, waitForStatus } from './helpers.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
});

async function setup(options: HumeEmulatorOptions = {}, answer: (n: number) => number = () => 200) {
  const emulator = await startHumeEmulator({ timing: { queuedMs: 0, processingMs: 0 }, ...options, callback: { backoffMs: 10, ...options.callback } });
  let n = 0;
  const receiver = await localServer((_req, res) => res.writeHead(answer(n++)).end());
  open.push(emulator, receiver);
  return { emulator, receiver, callbackUrl: `${receiver.url}/hume/cb?token=abc` };
}

const until = async (check: () => boolean, timeoutMs = 5_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(10);
  }
};

/** Waits until `count` callbacks were delivered or given up. */
const settled = async (emulator: HumeEmulator, count = 1): Promise<void> => {
  await until(() => {
    const s = emulator.stats();
    return s.callbacksSent + s.callbacksFailed >= count;
  });
};

describe('callbacks', () => {
  it('POSTs {job_id, status, predictions} as JSON on completion, predictions as GET returns them', async () => {
    const { emulator, receiver, callbackUrl } = await setup();
    const id = await submit(emulator, { text: ['Callback me, Hume.'], callback_url: callbackUrl });
    await until(() => receiver.received.length === 1);
    const [cb] = receiver.received;
    expect(cb).toMatchObject({ method: 'POST', url: '/hume/cb?token=abc' });
    expect(cb!.headers['content-type']).toBe('application/json');
    expect(cb!.headers['content-length']).toBe(String(cb!.body.length)); // streamed from the predictions file, length known
    const body = JSON.parse(cb!.body.toString());
    expect(body).toEqual({ job_id: id, status: 'COMPLETED', predictions: (await call(emulator, `/v0/batch/jobs/${id}/predictions`)).body });
    expect(emulator.stats()).toMatchObject({ callbacksSent: 1, callbackAttempts: 1 });
  });

  it('POSTs {job_id, status: FAILED, predictions: [], message} when a job fails', async () => {
    const { emulator, receiver, callbackUrl } = await setup();
    emulator.failNextJobs(1, "user 'x' has exceeded their usage limit");
    const id = await submit(emulator, { text: ['x'], callback_url: callbackUrl });
    await until(() => receiver.received.length === 1);
    expect(JSON.parse(receiver.received[0]!.body.toString())).toEqual({
      job_id: id, status: 'FAILED', predictions: [], message: "user 'x' has exceeded their usage limit",
    });
    const job = await waitForStatus(emulator, id);
    expect(job.state).toEqual({
      status: 'FAILED', created_timestamp_ms: expect.any(Number), started_timestamp_ms: expect.any(Number),
      ended_timestamp_ms: expect.any(Number), message: "user 'x' has exceeded their usage limit",
    });
    for (const suffix of ['predictions', 'artifacts']) {
      expect(await call(emulator, `/v0/batch/jobs/${id}/${suffix}`)).toMatchObject({
        status: 400, body: { message: "Job failed: user 'x' has exceeded their usage limit" },
      });
    }
  });

  it('retries on non-2xx with backoff until accepted', async () => {
    const { emulator, receiver, callbackUrl } = await setup({}, (n) => (n < 2 ? 500 : 204));
    await submit(emulator, { text: ['x'], callback_url: callbackUrl });
    await settled(emulator);
    expect(receiver.received).toHaveLength(3);
    expect(emulator.stats()).toMatchObject({ callbackAttempts: 3, callbacksSent: 1, callbacksFailed: 0 });
  });

  it('gives up after the configured retries, and retries network errors too', async () => {
    const { emulator, receiver, callbackUrl } = await setup({ callback: { retries: 2 } }, () => 503);
    await submit(emulator, { text: ['x'], callback_url: callbackUrl });
    await settled(emulator);
    expect(receiver.received).toHaveLength(3);
    expect(emulator.stats()).toMatchObject({ callbackAttempts: 3, callbacksSent: 0, callbacksFailed: 1 });

    const dead = await localServer();
    await dead.close();
    await submit(emulator, { text: ['y'], callback_url: `${dead.url}/cb` });
    await settled(emulator, 2);
    expect(emulator.stats().callbackAttempts).toBe(6);
  });

  it('drops callbacks at callbackDropRate', async () => {
    const { emulator, receiver, callbackUrl } = await setup({ faults: { callbackDropRate: 1 } });
    await waitForStatus(emulator, await submit(emulator, { text: ['x'], callback_url: callbackUrl }));
    await sleep(50);
    expect(receiver.received).toHaveLength(0);
    expect(emulator.stats().callbacksDropped).toBe(1);
  });

  it('duplicates callbacks at callbackDuplicateRate', async () => {
    const { emulator, receiver, callbackUrl } = await setup({ faults: { callbackDuplicateRate: 1 } });
    await submit(emulator, { text: ['x'], callback_url: callbackUrl });
    await until(() => receiver.received.length === 2);
    expect(receiver.received[0]!.body.equals(receiver.received[1]!.body)).toBe(true);
  });

  it('delays callbacks by callbackDelayMs, changeable at run time', async () => {
    const { emulator, receiver, callbackUrl } = await setup();
    emulator.setFaults({ callbackDelayMs: 300 });
    const id = await submit(emulator, { text: ['x'], callback_url: callbackUrl });
    const job = await waitForStatus(emulator, id);
    await until(() => receiver.received.length === 1);
    expect(Date.now() - job.state.ended_timestamp_ms).toBeGreaterThanOrEqual(280);
  });

  it('signs callbacks EVI-style when an hmacKey is set', async () => {
    const { emulator, receiver, callbackUrl } = await setup({ callback: { hmacKey: 'secret' } });
    await submit(emulator, { text: ['x'], callback_url: callbackUrl });
    await until(() => receiver.received.length === 1);
    const { headers, body } = receiver.received[0]!;
    const timestamp = headers['x-hume-ai-webhook-timestamp'] as string;
    expect(Math.abs(Date.now() / 1000 - Number(timestamp))).toBeLessThan(5);
    const expected = createHmac('sha256', 'secret').update(`${body.toString()}.${timestamp}`).digest('hex');
    expect(headers['x-hume-ai-webhook-signature']).toBe(expected);
  });

  it('cancels pending callbacks on close, leaving nothing behind', async () => {
    const { emulator, receiver, callbackUrl } = await setup({ faults: { callbackDelayMs: 10_000 } });
    await waitForStatus(emulator, await submit(emulator, { text: ['x'], callback_url: callbackUrl }));
    const started = Date.now();
    await emulator.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(receiver.received).toHaveLength(0);
  });
});
