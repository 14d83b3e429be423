/**
 * `temporal-hume demo` (what `npm start` runs): the whole product on one machine. An embedded
 * Temporal dev server, the Hume-compatible server unless HUME_API_KEY is set, a worker with the
 * webhook receiver, and a run over examples/ with live progress, ending in a results folder.
 */
import { readFile, readdir, mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection } from '@temporalio/worker';
import { Command } from 'commander';
import { startRun } from '../client.js';
import { loadHumeEnv } from '../config.js';
import { dataConverterFromEnv } from '../codec/index.js';
import { startDevServer } from '../devserver/index.js';
import { serveFolder } from '../demo/serve-folder.js';
import { parseBackendSpecs, startHumeEmulator, type BackendsOption } from '../emulator/index.js';
import { describeBackends } from '../emulator/backends/index.js';
import { startReceiver } from '../webhook/receiver.js';
import { installRuntime } from '../runtime.js';
import { createHumeWorker } from '../worker.js';
import { SEARCH_ATTRIBUTES } from '../workflows/definitions.js';
import { BACKEND_HELP, collect } from './emulator.js';
import { EXIT, usageError } from './errors.js';
import { printRows, resultRows } from './output.js';
import { createProgressView } from './progress.js';
import { untilSignal } from './signals.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));
const MODELS = { language: { sentiment: {}, toxicity: {} }, prosody: {}, burst: {}, face: {} };

export interface DemoOptions {
  out: string;
  /** Lower per-job limits, so a few hundred items make a visible sliding window of jobs. */
  textsPerJob: number;
  /** Backends of the embedded Hume-compatible server (unused with a real HUME_API_KEY). */
  backends?: BackendsOption;
}

export function demoCommand(): Command {
  return new Command('demo')
    .description('run the examples/ manifest end to end on an embedded Temporal dev server and the Hume-compatible server')
    .option('--out <dir>', 'results root', 'results')
    .option('--texts-per-job <n>', 'texts per Hume job (Hume allows 100)', (v) => Number(v), 25)
    .option('--backend <model=backend>', `for the embedded server: ${BACKEND_HELP}`, collect, [])
    .action(async (opts: { out: string; textsPerJob: number; backend: string[] }) => {
      let backends: BackendsOption;
      try {
        backends = parseBackendSpecs(opts.backend);
      } catch (err) {
        throw usageError((err as Error).message);
      }
      const result = await runDemo({ out: opts.out, textsPerJob: opts.textsPerJob, backends });
      if (!result) process.exitCode = EXIT.interrupted;
      else if (result.state !== 'completed') process.exitCode = EXIT.failed;
    });
}

export async function runDemo(options: DemoOptions, log = (m: string) => process.stderr.write(`${m}\n`)) {
  // Ctrl-C is ours to handle: stop following, then shut the worker and servers down in order.
  installRuntime({ sdkLogger: new DefaultLogger('WARN'), shutdownSignals: [] }, 'demo');
  const cleanups: Array<() => Promise<unknown>> = [];
  const interrupted = untilSignal();
  try {
    log('starting a Temporal dev server…');
    const server = await startDevServer({ searchAttributes: SEARCH_ATTRIBUTES });
    cleanups.push(() => server.stop());
    log(`Temporal at ${server.address}${server.uiUrl ? `, Web UI ${server.uiUrl}` : ''}`);

    const env = loadHumeEnv();
    const realKey = env.HUME_API_KEY;
    let hume = { apiKey: realKey ?? '', baseUrl: env.HUME_BASE_URL };
    let realFaces = false;
    if (!realKey) {
      const emulator = await startHumeEmulator({
        timing: { queuedMs: [200, 800], processingMs: [800, 2_500] },
        ...(options.backends ? { backends: options.backends } : {}),
      });
      cleanups.push(() => emulator.close());
      hume = { apiKey: emulator.apiKey, baseUrl: emulator.url };
      log(`no HUME_API_KEY: using the Hume-compatible server at ${emulator.url}`);
      log(describeBackends(emulator.backends()));
      // The bundled face model reads face-api's own photos; a model server of the user's needs its own.
      realFaces = emulator.backends().some((b) => b.model === 'face' && b.backend === 'face-api');
    } else if (Object.keys(options.backends ?? {}).length > 0) {
      log('HUME_API_KEY is set: --backend applies to the Hume-compatible server only, and is ignored');
    }

    // A real Hume cannot reach this machine's loopback: no URL items and no callbacks then (polling).
    const local = !realKey;
    const media = local ? await serveFolder(join(EXAMPLES, 'media')) : undefined;
    if (media) cleanups.push(() => media.close());
    const runId = `demo-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(2).toString('hex')}`;
    const outDir = resolve(options.out);
    // examples/ holds no photos of people; face-api's own samples give a real face backend faces to find.
    const photos = realFaces ? await faceApiSamples() : [];
    if (photos.length > 0) log(`real face backend: adding ${photos.length} sample photos of @vladmandic/face-api to the run`);
    const manifest = await writeDemoManifest(join(outDir, '.demo', `${runId}.jsonl`), media?.url, photos);

    const connection = await Connection.connect({ address: server.address });
    cleanups.push(() => connection.close());
    const dataConverter = dataConverterFromEnv(process.env);
    const client = new Client({ connection, dataConverter });
    const secret = randomBytes(24).toString('base64url');
    const receiver = local ? await startReceiver({ client, secrets: [secret] }) : undefined;
    if (receiver) cleanups.push(() => receiver.close());
    const nativeConnection = await NativeConnection.connect({ address: server.address });
    cleanups.push(() => nativeConnection.close());
    const taskQueue = 'temporal-hume-demo';
    const worker = await createHumeWorker({
      connection: nativeConnection,
      taskQueue,
      hume,
      callbacks: receiver && { baseUrl: receiver.url, secrets: [secret] },
      dataConverter,
    });
    const running = worker.run();
    cleanups.push(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    });

    const run = await startRun(
      client,
      { runId, outDir, manifest: { path: manifest }, config: { models: MODELS }, limits: { maxTextsPerJob: options.textsPerJob }, maxJobsInFlight: 8, searchAttributes: true },
      { taskQueue },
    );
    log(`run ${runId} started (workflow ${run.workflow.workflowId})`);
    const view = createProgressView();
    // Calls still waiting on Temporal when Ctrl-C comes are aborted before the connection closes.
    const abort = new AbortController();
    setMaxListeners(0, abort.signal); // one listener per progress call in flight
    const call = <T>(fn: () => Promise<T>) => connection.withAbortSignal(abort.signal, fn);
    const timer = setInterval(() => {
      call(() => run.progress()).then((p) => view.update(p), () => undefined);
    }, 250);
    const outcome = await Promise.race([
      call(() => run.result()).then((r) => ({ r })),
      interrupted.then((signal) => ({ signal })),
    ]);
    clearInterval(timer);
    if ('signal' in outcome) {
      abort.abort();
      view.stop();
      log(`\n${outcome.signal}: stopping; the run's folder so far is in ${join(outDir, runId)}`);
      return undefined;
    }
    view.update(await run.progress());
    view.stop();
    process.stdout.write('\n');
    printRows(resultRows(outcome.r));
    return outcome.r;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  }
}

/** The sample photos inside the installed @vladmandic/face-api package (`demo/sample*.jpg`). */
async function faceApiSamples(): Promise<string[]> {
  const demo = join(dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')), 'demo');
  return (await readdir(demo)).filter((name) => /^sample\d+\.jpg$/.test(name)).sort().map((name) => join(demo, name));
}

/**
 * examples/manifest.jsonl with file paths made absolute, plus each media file again as a loopback
 * URL when served, plus `photos` as file items.
 */
async function writeDemoManifest(path: string, mediaUrl: string | undefined, photos: readonly string[]): Promise<string> {
  const lines = (await readFile(join(EXAMPLES, 'manifest.jsonl'), 'utf8')).split('\n').filter(Boolean);
  const out: string[] = [];
  for (const line of lines) {
    const item = JSON.parse(line) as { id: string; file?: string };
    if (item.file && !isAbsolute(item.file)) item.file = join(EXAMPLES, item.file);
    out.push(JSON.stringify(item));
    if (item.file && mediaUrl) out.push(JSON.stringify({ id: `${item.id}-url`, url: `${mediaUrl}/${item.file.split('/').pop()}` }));
  }
  for (const photo of photos) out.push(JSON.stringify({ id: `face-api-${basename(photo, '.jpg')}`, file: photo }));
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${out.join('\n')}\n`);
  return path;
}
