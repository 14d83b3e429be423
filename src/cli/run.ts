/**
 * `temporal-hume run <manifest>`: checks everything it can before starting (options, manifest,
 * Hume, Temporal), starts a humeBatch run and follows it to its results, or plans it only.
 */
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { type RunHandle, startRun } from '../client.js';
import { loadHumeEnv } from '../config.js';
import { detectFormat, ManifestError } from '../manifest/index.js';
import { readFailure } from '../store/read-failure.js';
import { isS3Location, LocationError, normalizeLocation } from '../store/location.js';
import { StorageConfigError } from '../store/s3-client.js';
import { createStorage } from '../store/storage.js';
import { MANIFEST_FORMATS, type ManifestFormat } from '../schemas/batch.js';
import type { HumeBatchResult } from '../workflows/definitions.js';
import { describeInvalidLine, type DryRun, dryRun, formatBytes } from './dry-run.js';
import { CliError, EXIT, usageError } from './errors.js';
import { MODELS_HELP, parseJobConfig } from './models.js';
import { runResult } from './outcome.js';
import { printJson, printRows, resultRows } from './output.js';
import { preflightHume } from './preflight.js';
import { createProgressView, PROGRESS_LEGEND } from './progress.js';
import { buildRunInput, integerArg, numberArg, type RunInputFlags } from './run-input.js';
import { untilSignal } from './signals.js';
import { addTemporalOptions, connectTemporal, type TemporalFlags, type TemporalSession } from './temporal.js';

interface RunFlags extends TemporalFlags, RunInputFlags {
  models?: string;
  transcriptionLanguage?: string;
  taskQueue?: string;
  dryRun?: boolean;
  wait: boolean;
  json?: boolean;
}

const PROGRESS_EVERY_MS = 1_000;

const newRunId = () => `run-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(2).toString('hex')}`;

export function runCommand(): Command {
  const cmd = new Command('run')
    .description('run a manifest (JSONL or CSV) through Hume on Temporal and write one results folder; progress on stderr, results on stdout')
    .argument('<manifest>', 'the manifest file (.jsonl, .ndjson, .json or .csv)')
    .option('--models <models>', MODELS_HELP)
    .option('--transcription-language <tag>', 'BCP-47 language of speech, e.g. en or fr-CA (default: detected)')
    .addOption(new Option('--format <format>', 'manifest format (default: from the file extension)').choices(MANIFEST_FORMATS))
    .option('--out <dir>', 'results root: the run writes <dir>/<run-id>/ (a path the worker can write)', 'results')
    .option('--run-id <id>', 'names the run and its folder (letters, digits, . _ -) (default: run-<time>-<random>)')
    .option('--skip-invalid', 'run the valid items and list the invalid ones, instead of refusing the run')
    .option('--max-jobs-in-flight <n>', 'Hume jobs queued or running at once, 1-500 (default: 100)', integerArg)
    .option('--max-job-attempts <n>', 'Hume jobs tried per batch when one ends FAILED, 1-20 (default: 3)', integerArg)
    .option('--max-failed-percent <p>', 'the run ends failed when more than this percent of its items failed, 0-100 (default: 100, never)', numberArg)
    .option('--pause-after-failed-batches <n>', 'the run pauses itself after this many batches failed in a row, 0 never (default: 5)', integerArg)
    .option('--texts-per-job <n>', 'texts per Hume job, 1-100 (default: 100)', integerArg)
    .option('--urls-per-job <n>', 'URLs per Hume job, 1-100 (default: 100)', integerArg)
    .option('--files-per-job <n>', 'local files per Hume job, 1-100 (default: 100)', integerArg)
    .option('--first-poll-after <duration>', "silence before a job is first polled, e.g. '30 seconds' or ms (default: 3 minutes with callbacks, 5 seconds without)")
    .option('--max-poll-interval <duration>', "longest silence between polls (default: 10 minutes with callbacks, 1 minute without)")
    .option('--max-job-duration <duration>', "a Hume job still queued or running after this long counts as FAILED (default: '24 hours')")
    .option('--artifacts', "also download each job's artifacts zip (jobs/<batch>-<job id>/artifacts.zip)")
    .option('--search-attributes', 'set the HumeRunId, HumeJobIds and HumeRunState search attributes (registered on the server first)')
    .addOption(new Option('--on-cancel <what>', 'when the run is cancelled: let in-flight jobs finish, or abandon them').choices(['wait', 'abandon']))
    .option('--task-queue <queue>', 'the workers\' task queue (default: TEMPORAL_TASK_QUEUE or temporal-hume)')
    .option('--dry-run', 'plan only, without Temporal or Hume: items, Hume jobs, bytes to upload and every invalid line; exits 2 if the run would be refused')
    .option('--no-wait', 'print the run id and workflow id and exit once the run has started')
    .option('--json', 'print one JSON document on stdout; progress goes to stderr as JSON lines');
  return addTemporalOptions(cmd)
    .addHelpText('after', `\n${PROGRESS_LEGEND}\n\nExit codes: 0 the run completed, 1 it failed or was cancelled (or a server failed us), 2 bad options, manifest or configuration.`)
    .action(async (manifest: string, flags: RunFlags) => {
      const config = parseJobConfig(flags.models, flags.transcriptionLanguage);
      // Every option is checked as the run checks it, dry run or not, before anything is read or started.
      const runId = flags.runId ?? newRunId();
      const path = await checkManifest(manifest, flags.format);
      const input = buildRunInput(path, config, flags, runId);
      if (flags.dryRun) {
        const plan = await dryRun(path, flags.format, config, !!flags.skipInvalid, input.limits);
        printDryRun(plan, !!flags.json);
        if (!plan.wouldRun) throw usageError(`the run would be refused: ${plan.invalidCount} invalid line(s); fix them or pass --skip-invalid`);
        return;
      }
      const env = loadHumeEnv();
      await preflightStorage(input.outDir);
      await preflightHume(env);
      const session = await connectTemporal(flags);
      try {
        const run = await startRun(session.client, input, { taskQueue: flags.taskQueue ?? env.TEMPORAL_TASK_QUEUE });
        await followStarted(run, runId, flags, session);
      } finally {
        await session.close();
      }
    });
}

/** The manifest's location (a local path made absolute, or `s3://…`), once it is known to be a file of a format we read. */
async function checkManifest(manifest: string, format: ManifestFormat | undefined): Promise<string> {
  const path = locationArg(manifest, '<manifest>');
  if (isS3Location(path)) {
    const size = await createStorage().file(path).size().catch((err: unknown) => {
      throw usageError(`cannot read the manifest ${path} (${readFailure(err)})`);
    });
    if (size === undefined) throw usageError(`manifest not found: ${path}`);
  } else {
    const stats = await stat(path).catch((err: NodeJS.ErrnoException) => {
      throw usageError(err.code === 'ENOENT' ? `manifest not found: ${path}` : `cannot read the manifest ${path} (${err.code ?? err.message})`);
    });
    if (!stats.isFile()) throw usageError(`the manifest is not a file: ${path}`);
  }
  if (!format) {
    try {
      detectFormat(path);
    } catch (err) {
      if (err instanceof ManifestError) throw usageError(err.message.replace('give the format', 'pass --format'));
      throw err;
    }
  }
  return path;
}

function locationArg(text: string, what: string): string {
  try {
    return normalizeLocation(text);
  } catch (err) {
    if (err instanceof LocationError) throw usageError(`${what}: ${err.message}`);
    throw err;
  }
}

/** An S3 results root this process cannot use is refused before anything starts (the worker checks again with its own credentials). */
async function preflightStorage(outDir: string): Promise<void> {
  const root = locationArg(outDir, '--out');
  try {
    await createStorage().check(root);
  } catch (err) {
    if (err instanceof StorageConfigError) throw usageError(`--out ${err.message}`);
    throw err;
  }
}

/** After a start: prints the ids and returns (`--no-wait`), or follows the run and prints its results. */
export async function followStarted(run: RunHandle, runId: string, flags: { wait: boolean; json?: boolean }, session: TemporalSession): Promise<void> {
  const started = { runId, workflowId: run.workflow.workflowId };
  if (!flags.wait) {
    if (flags.json) printJson(started);
    else printRows([['run', runId], ['workflow', started.workflowId]]);
    return;
  }
  if (!flags.json) process.stderr.write(`run ${runId} started (workflow ${started.workflowId} in ${session.namespace} on ${session.address})\n`);
  await watchRun(run, runId, !!flags.json);
}

/** Follows a run to its end and prints its results; exit code 1 unless it completed (`run`, `redrive`, `status --watch`). */
export async function watchRun(run: RunHandle, runId: string, json: boolean): Promise<void> {
  const result = await follow(run, runId, json);
  if (json) printJson({ workflowId: run.workflow.workflowId, ...result });
  else printRows(resultRows(result));
  if (result.state !== 'completed') process.exitCode = EXIT.failed;
}

/** Shows progress until the run ends; Ctrl-C stops watching, never the run. */
async function follow(run: RunHandle, runId: string, json: boolean): Promise<HumeBatchResult> {
  const view = createProgressView(process.stderr, { json });
  // One query at a time: without a worker a query waits, and they must not pile up.
  let asking = false;
  const timer = setInterval(() => {
    if (asking) return;
    asking = true;
    run
      .progress()
      .then((p) => view.update(p), () => undefined)
      .finally(() => (asking = false));
  }, PROGRESS_EVERY_MS);
  const outcome = await Promise.race([runResult(run).then((result) => ({ result })), untilSignal().then((signal) => ({ signal }))]).finally(
    () => {
      clearInterval(timer);
      view.stop();
    },
  );
  if ('signal' in outcome) {
    throw new CliError(
      `${outcome.signal}: stopped watching; the run goes on (temporal-hume status ${runId}, temporal-hume cancel ${runId})`,
      EXIT.interrupted,
    );
  }
  return outcome.result;
}

function printDryRun(plan: DryRun, json: boolean): void {
  if (json) return printJson(plan);
  printRows([
    ['manifest', `${plan.manifest.path} (${plan.manifest.format})`],
    ['items', `${plan.items} (${plan.validItems} valid, ${plan.invalidCount} invalid)`],
    ['Hume jobs', String(plan.jobs)],
    ['upload', formatBytes(plan.uploadBytes)],
  ]);
  if (plan.invalid.length > 0) process.stdout.write(`invalid lines:\n${plan.invalid.map((l) => `  ${describeInvalidLine(l)}\n`).join('')}`);
}
