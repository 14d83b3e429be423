import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startThrottleProxy } from '../helpers/throttle-proxy.js';

const MB = 1024 * 1024;
const PAYLOAD = randomBytes(2 * MB);

/** A TCP server that answers every connection with PAYLOAD once the client sends a byte. */
let server: Server;
let target: string;
beforeAll(async () => {
  server = createServer((socket) => {
    socket.once('data', () => socket.end(PAYLOAD));
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Connects through `port`, sends one byte, and collects what comes back until the socket closes. */
async function fetchRaw(port: number): Promise<Buffer> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.write('x');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await once(socket, 'close');
  return Buffer.concat(chunks);
}

describe('throttle proxy', () => {
  it('forwards every byte, at about the limit of the direction, and counts them', async () => {
    const link = await startThrottleProxy({ target, bytesPerSecond: { serverToClient: 2 * MB } });
    try {
      const started = performance.now();
      const got = await fetchRaw(link.port);
      const seconds = (performance.now() - started) / 1000;
      expect(got.equals(PAYLOAD)).toBe(true);
      // 2 MB at 2 MB/s: about a second, never much less (a busy machine may take longer).
      expect(seconds).toBeGreaterThan(0.85);
      expect(link.stats).toMatchObject({ serverToClient: PAYLOAD.length, clientToServer: 1, connections: 1 });
    } finally {
      await link.close();
    }
  });

  it('cuts a connection exactly after N bytes server→client, once', async () => {
    const link = await startThrottleProxy({ target });
    try {
      const cut = link.cutAfterServerToClientBytes(123_457);
      const first = await fetchRaw(link.port);
      await cut;
      expect(first.equals(PAYLOAD.subarray(0, 123_457))).toBe(true);
      expect((await fetchRaw(link.port)).equals(PAYLOAD)).toBe(true);
      expect(link.stats.connections).toBe(2);
    } finally {
      await link.close();
    }
  });
});
