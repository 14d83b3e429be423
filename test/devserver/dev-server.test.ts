import { once } from 'node:events';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { freePort, resolveTemporalCli, startDevServer } from '../../src/devserver/index.js';
import { isAlive, spawnCli, waitForLine } from '../helpers/spawn.js';

describe('startDevServer', () => {
  it('keeps workflows in the SQLite file across a restart and leaves no process behind', async () => {
    const dbFile = join(mkdtempSync(join(tmpdir(), 'devserver-')), 'temporal.db');
    const first = await startDevServer({ headless: true, dbFile });
    const connection = await Connection.connect({ address: first.address });
    const client = new Client({ connection });
    await client.workflow.start('neverRegistered', { taskQueue: 'nobody', workflowId: 'persisted-run' });
    await connection.close();
    await first.stop();
    expect(isAlive(first.pid)).toBe(false);

    const second = await startDevServer({ headless: true, dbFile });
    try {
      const again = await Connection.connect({ address: second.address });
      const description = await new Client({ connection: again }).workflow.getHandle('persisted-run').describe();
      expect(description.status.name).toBe('RUNNING');
      await again.close();
    } finally {
      await second.stop();
    }
    expect(isAlive(second.pid)).toBe(false);
  });

  it('on a port already taken, says so, quoting the server\'s own words', async () => {
    const holder = createServer();
    holder.listen(0, '127.0.0.1');
    await once(holder, 'listening');
    const { port } = holder.address() as AddressInfo;
    try {
      const started = startDevServer({ headless: true, port });
      await expect(started).rejects.toThrow(new RegExp(`^Temporal dev server on 127\\.0\\.0\\.1:${port} did not start: the server process exited\\n.*address already in use`));
    } finally {
      holder.close();
    }
  });

  it('quotes the first line of a long failing output (a panic\'s cause) and its last, with what lies between cut', async () => {
    const cli = fakeCli(`echo 'panic: the cause, first'; head -c 10000 /dev/zero | tr '\\0' x; echo; echo 'goroutine 1, last'; exit 2`);
    const error = await startDevServer({ headless: true, cliPath: cli.path }).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error?.message).toMatch(/did not start: the server process exited\npanic: the cause, first\nx+\n…\nx+\ngoroutine 1, last\n$/);
    expect(error!.message.length).toBeLessThan(4_300);
  });

  it('quotes an output a little past the head whole, with nothing cut', async () => {
    // Past the 2,000 characters kept as the head, short of head and tail together: nothing to cut.
    const cli = fakeCli(`echo 'panic: the cause'; for i in 1 2 3; do head -c 1000 /dev/zero | tr '\\0' $i; sleep 0.05; done; echo; echo 'the end'; exit 2`);
    const error = await startDevServer({ headless: true, cliPath: cli.path }).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error?.message).toMatch(/did not start: the server process exited\npanic: the cause\n1{1000}2{1000}3{1000}\nthe end\n$/);
  });

  it.each([
    [4_000, /exited\na{4000}$/],
    [4_001, /exited\na{2000}\n…\na{2000}$/],
  ])('quotes an output of %i characters against the 4,000 kept (head and tail): whole at the limit, cut one past it', async (length, quoted) => {
    const cli = fakeCli(`head -c ${length} /dev/zero | tr '\\0' a; exit 2`);
    const error = await startDevServer({ headless: true, cliPath: cli.path }).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error?.message).toMatch(quoted);
  });

  it('starts again on new ports when a port it picked was taken before the server bound it', async () => {
    const cli = fakeCli(`if [ ! -e "$0.taken" ]; then touch "$0.taken"; echo 'listen tcp 127.0.0.1:1: bind: address already in use'; exit 1; fi; exec '${await resolveTemporalCli()}' "$@"`);
    const server = await startDevServer({ headless: true, cliPath: cli.path });
    try {
      const connection = await Connection.connect({ address: server.address });
      expect((await connection.workflowService.getSystemInfo({})).serverVersion).toBeTruthy();
      await connection.close();
    } finally {
      await server.stop();
    }
    const [first, second] = cli.calls();
    expect(cli.calls()).toHaveLength(2);
    expect(second).not.toBe(first);
  });

  it('says at once that a CLI which cannot be run cannot be run, naming it', async () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'no-cli-')), 'temporal');
    await expect(startDevServer({ headless: true, cliPath: missing })).rejects.toThrow(`did not start: cannot run ${missing} (spawn ${missing} ENOENT)`);
  });

  it('does not retry on a port the caller chose: that port is taken, and it says so', async () => {
    const cli = fakeCli(`echo 'listen tcp: bind: address already in use'; exit 1`);
    const port = await freePort();
    await expect(startDevServer({ headless: true, port, cliPath: cli.path })).rejects.toThrow(new RegExp(`127\\.0\\.0\\.1:${port} did not start: .*\\n.*address already in use`));
    expect(cli.calls()).toHaveLength(1);
  });
});

/** A stand-in for the Temporal CLI: a shell script that logs each call's arguments, then runs `body`. */
function fakeCli(body: string) {
  const path = join(mkdtempSync(join(tmpdir(), 'fake-cli-')), 'temporal');
  writeFileSync(path, `#!/bin/sh\necho "$*" >> "$0.calls"\n${body}\n`);
  chmodSync(path, 0o755);
  return { path, calls: () => readFileSync(`${path}.calls`, 'utf8').trim().split('\n') };
}

describe('temporal-hume dev-server', () => {
  it('prints its address once it answers, and stops on SIGTERM', async () => {
    const child = spawnCli(['dev-server', '--headless']);
    const [, address] = await waitForLine(child, /^dev server ready: (\S+) \(no UI\)\n/m);
    const connection = await Connection.connect({ address: address! });
    const info = await connection.workflowService.getSystemInfo({});
    expect(info.serverVersion).toBeTruthy();
    await connection.close();
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    // The server is gone with the CLI: its port no longer answers.
    await expect(Connection.connect({ address: address!, connectTimeout: 1_000 })).rejects.toThrow();
  });
});
