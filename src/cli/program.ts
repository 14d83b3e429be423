/** The `temporal-hume` program: every subcommand, with exit handling and help hints passed down to each. */
import { Command } from 'commander';
import { cancelCommand, pauseCommand, resizeCommand, resumeCommand } from './control.js';
import { demoCommand } from './demo.js';
import { devServerCommand, installTemporalCommand } from './dev-server.js';
import { emulatorCommand } from './emulator.js';
import { listCommand } from './list.js';
import { redriveCommand } from './redrive.js';
import { resultsCommand } from './results.js';
import { runCommand } from './run.js';
import { statusCommand } from './status.js';
import { webhookCommand } from './webhook.js';
import { workerCommand } from './worker.js';

export function buildProgram(): Command {
  const program = new Command('temporal-hume')
    .description('Run Hume AI Expression Measurement batch jobs durably on Temporal')
    .option('--verbose', 'print stack traces on errors')
    // Program options only before the command name, so the emulator's own --verbose (its logs) reaches it.
    .enablePositionalOptions()
    // Errors come back to the caller (src/cli.ts), which prints them and picks the exit code.
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', '\nExit codes: 0 ok, 1 a run failed or a server failed us, 2 bad usage, input or configuration, 130 interrupted.');
  const commands = [
    runCommand(),
    listCommand(),
    statusCommand(),
    pauseCommand(),
    resumeCommand(),
    resizeCommand(),
    cancelCommand(),
    resultsCommand(),
    redriveCommand(),
    workerCommand(),
    webhookCommand(),
    demoCommand(),
    emulatorCommand(),
    devServerCommand(),
    installTemporalCommand(),
  ];
  // addCommand (unlike .command()) does not pass settings down: exit handling and help hints must reach every command,
  // and --verbose is taken after the command name too (the emulator keeps its own, for its logs).
  for (const command of commands) {
    if (!command.options.some((option) => option.long === '--verbose')) command.option('--verbose', 'print stack traces on errors');
    program.addCommand(command.copyInheritedSettings(program));
  }
  return program;
}
