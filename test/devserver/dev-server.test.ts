import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { startDevServer } from '../../src/devserver/index.js';
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

  it('on a port already taken, says so: the cause at the head of the server output it quotes, not cut off', async () => {
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
});

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
