/**
 * `temporal-hume emulator`: runs the Hume-compatible server until SIGINT/SIGTERM. Prints exactly
 * `listening on http://HOST:PORT` on stdout once ready (scripts read it); the backends line and
 * logs go to stderr.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { describeBackends } from '../emulator/backends/index.js';
import {
  EMULATOR_DEFAULTS as D, parseBackendSpecs, startHumeEmulator, type Faults, type HumeEmulatorOptions,
} from '../emulator/index.js';

const number = (value: string): number => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('not a number');
  return n;
};

/** `a-b` or `a` (ms). */
const range = (value: string): [number, number] => {
  const m = /^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?$/.exec(value.trim());
  if (!m?.[1]) throw new InvalidArgumentError('expected MIN-MAX or a single number (ms)');
  const min = Number(m[1]);
  return [min, m[2] === undefined ? min : Number(m[2])];
};

/** Repeatable `--backend MODEL=BACKEND`, checked as a whole in the action (one line per bad spec). */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Help of `--backend`, shared with `demo`. */
export const BACKEND_HELP = 'MODEL=BACKEND, repeatable: BACKEND is synthetic (default), face-api (face only) or a model server URL (http(s)://…)';

/** Fault flags: `--fault-latency-ms` sets `faults.latencyMs`, and so on. */
const FAULT_FLAGS: [keyof Faults, string, string][] = [
  ['latencyMs', 'latency-ms', 'delay before each API request, ms'],
  ['serverErrorRate', 'server-error-rate', 'fraction of API requests answered 5xx (0-1)'],
  ['resetRate', 'reset-rate', 'fraction of API requests whose connection is reset (0-1)'],
  ['tooManyRequestsRate', 'too-many-requests-rate', 'fraction of API requests starting a 429 burst (0-1)'],
  ['tooManyRequestsBurst', 'too-many-requests-burst', '429s in a row once a burst starts'],
  ['retryAfterSeconds', 'retry-after-seconds', 'Retry-After of injected 429/5xx, s'],
  ['callbackDropRate', 'callback-drop-rate', 'fraction of callbacks never sent (0-1)'],
  ['callbackDuplicateRate', 'callback-duplicate-rate', 'fraction of callbacks sent twice (0-1)'],
  ['callbackDelayMs', 'callback-delay-ms', 'delay before each callback, ms'],
  ['jobFailureRate', 'job-failure-rate', 'fraction of jobs ending FAILED (0-1)'],
];

interface Flags {
  host: string;
  port: number;
  apiKey: string;
  queuedMs: [number, number];
  processingMs: [number, number];
  maxQueuedJobs: number;
  rateLimit?: number;
  callbackRetries: number;
  callbackHmacKey?: string;
  fetchUrls: 'loopback' | 'all' | 'none';
  seed: number;
  dataDir?: string;
  backend: string[];
  backendTimeoutMs: number;
  backendRetries: number;
  verbose?: boolean;
  [fault: string]: unknown;
}

export function emulatorCommand(): Command {
  const cmd = new Command('emulator')
    .description('Run a Hume-compatible batch API (v0) server with fault injection')
    .option('--host <host>', 'interface to listen on', D.host)
    .option('--port <port>', 'port (0 = any free port)', number, 8790)
    .option('--api-key <key>', 'API key clients must send', D.apiKey)
    .option('--queued-ms <min-max>', 'time a job stays QUEUED, ms', range, D.timing.queuedMs)
    .option('--processing-ms <min-max>', 'time a job stays IN_PROGRESS, ms', range, D.timing.processingMs)
    .option('--max-queued-jobs <n>', 'queued jobs before submits get 429', number, D.maxQueuedJobs)
    .option('--rate-limit <rps>', 'API requests per second before 429 (default: unlimited)', number)
    .option('--callback-retries <n>', 'callback retries after a failed attempt', number, D.callback.retries)
    .option('--callback-hmac-key <key>', 'sign callbacks (X-Hume-AI-Webhook-Signature/-Timestamp)')
    .addOption(new Option('--fetch-urls <which>', 'URLs really downloaded; others are derived from the URL string')
      .choices(['loopback', 'all', 'none']).default(D.fetchUrls))
    .option('--seed <n>', 'seed of job timing and fault draws', number, D.seed)
    .option('--data-dir <dir>', "where jobs' uploads, texts and predictions are kept (default: a temporary folder removed on exit)")
    .option('--backend <model=backend>', BACKEND_HELP, collect, [])
    .option('--backend-timeout-ms <ms>', "one request's deadline for model servers", number, D.httpBackend.timeoutMs)
    .option('--backend-retries <n>', 'retries after a model server times out, fails to connect, or answers 429/5xx', number, D.httpBackend.retries)
    .option('-v, --verbose', 'log jobs and callbacks to stderr');
  for (const [, flag, help] of FAULT_FLAGS) cmd.option(`--fault-${flag} <n>`, help, number);

  return cmd.action(async (flags: Flags) => {
    let emulator;
    try {
      emulator = await startHumeEmulator(emulatorOptions(flags));
    } catch (err) {
      console.error(`emulator: ${(err as Error).message}`);
      process.exitCode = 2;
      return;
    }
    process.stdout.write(`listening on ${emulator.url}\n`);
    // With --verbose the emulator's logger has said it already.
    if (!flags.verbose) process.stderr.write(`${describeBackends(emulator.backends())}\n`);
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      const stop = (sig: NodeJS.Signals): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve(sig);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    console.error(`emulator: ${signal}, stopping`);
    await emulator.close();
  });
}

/** The flags as options; a bad `--backend` throws one line naming it. */
function emulatorOptions(flags: Flags): HumeEmulatorOptions {
  const faults: Partial<Faults> = {};
  for (const [key] of FAULT_FLAGS) {
    const value = flags[`fault${key[0]?.toUpperCase()}${key.slice(1)}`];
    if (typeof value === 'number') faults[key] = value;
  }
  return {
    host: flags.host,
    port: flags.port,
    apiKey: flags.apiKey,
    timing: { queuedMs: flags.queuedMs, processingMs: flags.processingMs },
    maxQueuedJobs: flags.maxQueuedJobs,
    rateLimit: flags.rateLimit ?? null,
    callback: { retries: flags.callbackRetries, ...(flags.callbackHmacKey ? { hmacKey: flags.callbackHmacKey } : {}) },
    fetchUrls: flags.fetchUrls,
    seed: flags.seed,
    ...(flags.dataDir ? { dataDir: flags.dataDir } : {}),
    backends: parseBackendSpecs(flags.backend),
    httpBackend: { timeoutMs: flags.backendTimeoutMs, retries: flags.backendRetries },
    faults,
    ...(flags.verbose
      ? { logger: { info: (m: string) => console.error(m), warn: (m: string) => console.error(`warning: ${m}`) } }
      : {}),
  };
}
