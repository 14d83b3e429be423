#!/usr/bin/env node
/** The `temporal-hume` command: the program in src/cli/program.ts; errors are mapped in src/cli/errors.ts. */
import { reportError } from './cli/errors.js';
import { buildProgram } from './cli/program.js';

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.exitCode = reportError(err, process.argv.includes('--verbose'));
  });
