/** `temporal-hume dev-server` and `install-temporal`: a local Temporal server in the foreground. */
import { Command, InvalidArgumentError } from 'commander';
import { resolveTemporalCli, startDevServer } from '../devserver/index.js';
import { SEARCH_ATTRIBUTES } from '../workflows/definitions.js';
import { untilSignal } from './signals.js';

export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return port;
}

/** The one line `dev-server` prints once the server answers. */
export function devServerReadyLine(server: { address: string; uiUrl?: string }): string {
  return `dev server ready: ${server.address} (${server.uiUrl ? `UI ${server.uiUrl}` : 'no UI'})`;
}

export function devServerCommand(): Command {
  return new Command('dev-server')
    .description('run a local Temporal dev server in the foreground (free ports unless given); prints "dev server ready: ADDRESS (UI URL)" on stdout')
    .option('--port <port>', 'frontend gRPC port', parsePort)
    .option('--ui-port <port>', 'Web UI port', parsePort)
    .option('--headless', 'no Web UI')
    .option('--db <file>', 'SQLite file, so workflows survive a restart')
    .option('--ip <ip>', 'interface to bind', '127.0.0.1')
    .action(async (opts: { port?: number; uiPort?: number; headless?: boolean; db?: string; ip: string }) => {
      const server = await startDevServer({
        ip: opts.ip,
        port: opts.port,
        uiPort: opts.uiPort,
        headless: opts.headless,
        dbFile: opts.db,
        // Registered so runs started with `searchAttributes: true` are findable in the UI.
        searchAttributes: SEARCH_ATTRIBUTES,
      });
      process.stdout.write(`${devServerReadyLine(server)}\n`);
      await untilSignal();
      await server.stop();
    });
}

export function installTemporalCommand(): Command {
  return new Command('install-temporal')
    .description('find the Temporal CLI, or build it once with go install into the project cache')
    .action(async () => {
      process.stdout.write(`${await resolveTemporalCli()}\n`);
    });
}
