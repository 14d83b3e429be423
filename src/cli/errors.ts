/**
 * The CLI's one error handler: known errors become one line for a person and an exit code
 * (0 ok, 1 the run failed or something we depend on failed, 2 what was typed or configured is
 * wrong, 130 interrupted). Stack traces only with `--verbose`.
 */
import { WorkflowFailedError } from '@temporalio/client';
import {
  ApplicationFailure,
  NamespaceNotFoundError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
} from '@temporalio/common';
import { CommanderError } from 'commander';
import { InvalidInputError } from '../client.js';
import { ConfigError } from '../config.js';
import { HumeError } from '../hume/errors.js';
import { FAILURE_TYPES } from '../workflows/definitions.js';

export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error whose message is already written for a person, with the exit code it means. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export const usageError = (message: string) => new CliError(message, EXIT.usage);

/** Failure types our activities use for input refused before any job is submitted. */
const INPUT_FAILURES = new Set<string>([FAILURE_TYPES.invalidManifest, FAILURE_TYPES.invalidConfig, FAILURE_TYPES.runIdTaken, FAILURE_TYPES.storageUnusable]);

/** The line to print (none when commander already printed it) and the exit code. */
export function describeError(err: unknown): { exitCode: ExitCode; line?: string } {
  if (err instanceof CommanderError) {
    // `--help` and `--version` exit through here too; commander has printed what it had to say.
    const ok = ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(err.code);
    return { exitCode: ok ? EXIT.ok : EXIT.usage };
  }
  if (err instanceof CliError) return { exitCode: err.exitCode, line: err.message };
  if (err instanceof InvalidInputError || err instanceof ConfigError) return { exitCode: EXIT.usage, line: err.message };
  if (err instanceof WorkflowNotFoundError) {
    return { exitCode: EXIT.usage, line: `unknown run: no workflow ${err.workflowId} (check the run id and TEMPORAL_NAMESPACE)` };
  }
  if (err instanceof WorkflowExecutionAlreadyStartedError) {
    return { exitCode: EXIT.usage, line: `a run with workflow id ${err.workflowId} already exists: choose another --run-id` };
  }
  if (err instanceof NamespaceNotFoundError) return { exitCode: EXIT.usage, line: `unknown Temporal namespace ${err.namespace}` };
  if (err instanceof WorkflowFailedError) {
    const failure = rootFailure(err);
    const refused = failure instanceof ApplicationFailure && INPUT_FAILURES.has(failure.type ?? '');
    return { exitCode: refused ? EXIT.usage : EXIT.failed, line: `run failed: ${failure.message}` };
  }
  if (err instanceof ApplicationFailure && INPUT_FAILURES.has(err.type ?? '')) return { exitCode: EXIT.usage, line: err.message };
  if (err instanceof HumeError) return { exitCode: EXIT.failed, line: err.message };
  return { exitCode: EXIT.failed, line: err instanceof Error ? err.message : String(err) };
}

/** Prints `err` for a person and returns the exit code. */
export function reportError(err: unknown, verbose: boolean, stderr: NodeJS.WritableStream = process.stderr): ExitCode {
  const { exitCode, line } = describeError(err);
  if (line !== undefined) stderr.write(`temporal-hume: ${line}\n`);
  if (verbose && err instanceof Error && !(err instanceof CommanderError)) stderr.write(`${stackWithCauses(err)}\n`);
  return exitCode;
}

/** The innermost cause of a workflow failure: the activity's or workflow's own error. */
export function rootFailure(err: Error): Error {
  let current = err;
  while (current.cause instanceof Error) current = current.cause;
  return current;
}

function stackWithCauses(err: Error): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error; e = e.cause) parts.push(e.stack ?? `${e.name}: ${e.message}`);
  return parts.join('\ncaused by: ');
}
