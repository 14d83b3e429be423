#!/usr/bin/env node
/** The `temporal-hume` command. Each subcommand lives in src/cli/<name>.ts. */
import { Command } from 'commander';
import { demoCommand } from './cli/demo.js';
import { devServerCommand, installTemporalCommand } from './cli/dev-server.js';
import { emulatorCommand } from './cli/emulator.js';
import { workerCommand } from './cli/worker.js';

export function buildProgram(): Command {
  return new Command('temporal-hume')
    .description('Run Hume AI Expression Measurement batch jobs durably on Temporal')
    .option('--verbose', 'print stack traces on errors')
    .addCommand(demoCommand())
    .addCommand(devServerCommand())
    .addCommand(installTemporalCommand())
    .addCommand(workerCommand())
    .addCommand(emulatorCommand())
    .showHelpAfterError();
}

async function run(): Promise<void> {
  await buildProgram().parseAsync(process.argv);
}

run().catch((err: unknown) => {
  const verbose = process.argv.includes('--verbose');
  process.stderr.write(`temporal-hume: ${verbose && err instanceof Error ? err.stack : (err as Error).message ?? err}\n`);
  process.exit(1);
});
