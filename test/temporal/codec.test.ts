import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startRun } from '../../src/client.js';
import { resolveTemporalCli } from '../../src/devserver/index.js';
import { dataConverterFromEnv, ENCRYPTED_ENCODING, isEncrypted, type RunningCodecServer, startCodecServer } from '../../src/codec/index.js';
import { fromJson, type JsonPayloads, toJson } from '../../src/codec/json.js';
import { type HumeEmulator, startHumeEmulator } from '../../src/emulator/index.js';
import { humeJob } from '../../src/workflows/index.js';
import { decodeAll, encodingOf, historiesOnTaskQueue, payloadsIn } from '../helpers/history.js';
import { uniqueId } from '../helpers/temporal.js';
import { WorkerProcesses, workerEnv } from '../helpers/worker-process.js';

const API_KEY = 'codec-test-api-key-7731';
const config = { models: { language: {}, prosody: {} } };
// What must never be readable in Temporal: texts, and URLs whose query string is a credential.
const TEXT = 'Confidential: the patient reported feeling hopeful 4711.';
const SIGNED_URL = 'https://bucket.example.com/private/clip.wav?X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=9f8e7d6c5b4a';
const batchItems = [
  { id: 'b-text-1', text: 'Batch secret sentence number one, 0815.' },
  { id: 'b-text-2', text: 'Batch secret sentence number two, 0816.' },
  { id: 'b-url-1', url: 'https://bucket.example.com/private/b1.wav?X-Amz-Signature=b1b1b1b1b1' },
];
const plaintexts = [TEXT, SIGNED_URL, 'X-Amz-Signature', ...batchItems.map((i) => i.text ?? i.url!)];

describe('payload encryption end to end', () => {
  let emulator: HumeEmulator;
  let connection: Connection;
  let client: Client;
  let workers: WorkerProcesses;
  let codecServer: RunningCodecServer;
  let taskQueue: string;
  const outDir = mkdtempSync(join(tmpdir(), 'codec-'));

  beforeAll(async () => {
    emulator = await startHumeEmulator({ apiKey: API_KEY, timing: { queuedMs: [10, 30], processingMs: [20, 60] } });
    taskQueue = uniqueId('codec');
    const env = await workerEnv({
      temporalAddress: inject('temporalAddress'),
      taskQueue,
      humeUrl: emulator.url,
      apiKey: API_KEY,
      webhookSecret: 'codec-test-webhook-secret-0001',
      extra: { TEMPORAL_HUME_CODEC_KEY_ID: 'test-2026', TEMPORAL_HUME_CODEC_KEY: randomBytes(32).toString('base64') },
    });
    workers = new WorkerProcesses(env);
    await workers.start();
    const dataConverter = dataConverterFromEnv(env)!;
    connection = await Connection.connect({ address: inject('temporalAddress') });
    client = new Client({ connection, dataConverter });
    codecServer = await startCodecServer({ codecs: dataConverter.payloadCodecs!, origins: ['http://localhost:8233'] });
  });

  afterAll(async () => {
    await workers?.stop();
    await codecServer?.close();
    await connection?.close();
    await emulator?.close();
  });

  it('runs a humeJob and a humeBatch with every payload in their histories encrypted, decodable by the codec server', async () => {
    expect(workers.log).toMatch(/payloads encrypted/);
    const jobWorkflowId = uniqueId('codec-job');
    // Polled (its callback dropped): its state check is a local activity, whose result lands in a marker.
    emulator.setFaults({ callbackDropRate: 1 });
    const job = await client.workflow.execute(humeJob, {
      taskQueue,
      workflowId: jobWorkflowId,
      args: [{ texts: [TEXT], urls: [SIGNED_URL], config, resultDir: join(outDir, 'job'), polling: { firstPollAfter: '300 milliseconds' } }],
    }).finally(() => emulator.setFaults({ callbackDropRate: 0 }));
    expect(job.status).toBe('COMPLETED');
    // The result carries counts, paths and hashes only; the signed URL is in the input alone, encrypted.
    expect(job.counts).toMatchObject({ sources: 2, sourcesWithPredictions: 2 });
    expect(JSON.stringify(job)).not.toContain(SIGNED_URL);

    const run = await startRun(client, { runId: uniqueId('codec-run'), outDir, config, items: batchItems }, { taskQueue });
    const result = await run.result();
    expect(result.summary.items.completed).toBe(batchItems.length);
    // The batch's callback went through the receiver, whose client encrypts the jobFinished signal too.
    expect(emulator.stats().callbacksSent).toBeGreaterThanOrEqual(1);

    const { jobs } = await run.progress();
    const histories = await historiesOnTaskQueue(client, taskQueue, 2 + jobs.planned);
    const payloads = histories.flatMap(({ workflowId, history }) => payloadsIn(history).map((p) => ({ ...p, workflowId })));
    expect(payloads.length).toBeGreaterThan(10);
    // A local activity's marker carries the SDK's own bookkeeping (sequence, activity type, times)
    // in `details.data`, a patch's marker its patch id in `details.patch-data` and the
    // `TemporalChangeVersion` search attribute (search attributes are never encoded: the server
    // indexes them), all written by the SDK core outside any codec; a local activity's result is
    // in `details.result`.
    const sdkBookkeeping = (path: string) =>
      /markerRecordedEventAttributes\.details\.(data|patch-data)\./.test(path) || /searchAttributes\.indexedFields\.TemporalChangeVersion$/.test(path);
    expect(payloads.some(({ path }) => /markerRecordedEventAttributes\.details\.result\./.test(path))).toBe(true);
    const unencrypted = payloads.filter(({ payload, path }) => encodingOf(payload) !== ENCRYPTED_ENCODING && !sdkBookkeeping(path));
    expect(unencrypted.map(({ workflowId, path }) => `${workflowId} ${path}`)).toEqual([]);
    const everything = decodeAll(histories);
    for (const plain of plaintexts) expect(everything).not.toContain(plain);
    expect(histories.some((h) => h.history.events?.some((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes || e.workflowExecutionSignaledEventAttributes))).toBe(true);

    // Whoever holds the key reads them back, the way the Temporal UI does through the codec server.
    const res = await request(`${codecServer.url}/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-namespace': 'default', origin: 'http://localhost:8233' },
      body: JSON.stringify(toJson(payloads.map((p) => p.payload))),
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('http://localhost:8233');
    const decoded = fromJson((await res.body.json()) as JsonPayloads);
    expect(decoded.filter(isEncrypted)).toEqual([]);
    const readable = decoded.map((p) => JSON.stringify(defaultPayloadConverter.fromPayload(p))).join('\n');
    expect(readable).toContain(JSON.stringify(TEXT));
    expect(readable).toContain(JSON.stringify(SIGNED_URL));
    expect(readable).toContain(JSON.stringify(batchItems[0]!.text));

    // The Temporal CLI reads the same endpoint (the UI's format): `--codec-endpoint`.
    const args = ['workflow', 'show', '-w', jobWorkflowId, '--address', inject('temporalAddress'), '--codec-endpoint', codecServer.url, '-o', 'json'];
    const { stdout: shown } = await promisify(execFile)(await resolveTemporalCli(), args);
    const [input] = (JSON.parse(shown) as { events: Array<{ workflowExecutionStartedEventAttributes?: { input: { payloads: Array<{ data: string }> } } }> })
      .events[0]!.workflowExecutionStartedEventAttributes!.input.payloads;
    expect(Buffer.from(input!.data, 'base64').toString()).toContain(TEXT);
  });
});
