/**
 * A slow link on loopback: a TCP proxy (node:net) between a client and a server that limits the
 * bandwidth of each direction, can cut a connection after so many bytes, and counts what passes.
 * Protocol-blind, so what an HTTP client meets is a real slow socket, not a slow handler.
 *
 *   const link = await startThrottleProxy({ target: server.url, bytesPerSecond: { serverToClient: 2e6 } });
 *   const client = new HumeClient({ apiKey, baseUrl: link.url });
 *   const cut = link.cutAfterServerToClientBytes(1_000_000); // the next MB down, then the socket dies
 *   …
 *   await link.close();
 *
 * A direction's limit is shared by all connections, as a link's is: 4 downloads on a 2 MB/s link
 * get ~0.5 MB/s each. Limiting is a token bucket refilled continuously and spent in slices of
 * ~10 ms of traffic, so the rate is smooth, not bursts once a second.
 */
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

export interface ThrottleProxyOptions {
  /** Where to forward: `http://host:port` (a URL's host and port) or `{ host, port }`. */
  target: string | { host: string; port: number };
  /** Per-direction limits, bytes/s. Absent: that direction is unlimited. */
  bytesPerSecond?: { clientToServer?: number; serverToClient?: number };
}

export interface ThrottleProxyStats {
  /** Bytes forwarded from clients to the server (uploads, request headers). */
  clientToServer: number;
  /** Bytes forwarded from the server to clients (downloads, responses). */
  serverToClient: number;
  /** Connections accepted since the start. */
  connections: number;
  /** Connections open now. */
  open: number;
}

export interface ThrottleProxy {
  /** `http://127.0.0.1:<port>`: use as a client's base URL. */
  readonly url: string;
  readonly port: number;
  /** A live view of the counters. */
  readonly stats: Readonly<ThrottleProxyStats>;
  /** Changes a direction's limit for traffic from now on; `undefined` lifts it. */
  setRate(direction: 'clientToServer' | 'serverToClient', bytesPerSecond: number | undefined): void;
  /**
   * One shot: once `bytes` more bytes have gone server→client (counted from this call, on any
   * connection), the connection carrying the last of them is destroyed both ways, exactly after
   * that byte. Resolves when the cut happened. Arming again replaces a cut not yet made.
   */
  cutAfterServerToClientBytes(bytes: number): Promise<void>;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

/** Slices of this much traffic time, so a big chunk is spread out rather than sent at once. */
const SLICE_MS = 10;
/** Tokens kept for a late timer, ms of traffic: a busy event loop does not lower the rate. */
const BUCKET_MS = 50;

/** A token bucket in bytes; `take` hands out slices in the order asked. */
class ByteBucket {
  #rate: number | undefined;
  #tokens = 0;
  #at = performance.now();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(rate: number | undefined) {
    this.setRate(rate);
  }

  setRate(rate: number | undefined): void {
    if (rate !== undefined && !(rate > 0 && Number.isFinite(rate))) throw new RangeError(`bytesPerSecond must be positive, got ${rate}`);
    this.#refill();
    this.#rate = rate;
    this.#tokens = Math.min(this.#tokens, this.#capacity());
  }

  /** Resolves with how many of `wanted` bytes may go now (at least 1, at most a slice). */
  take(wanted: number): Promise<number> {
    const turn = this.#queue.then(() => this.#grant(wanted));
    this.#queue = turn;
    return turn;
  }

  async #grant(wanted: number): Promise<number> {
    for (;;) {
      const rate = this.#rate;
      if (rate === undefined) return wanted;
      this.#refill();
      const n = Math.min(wanted, Math.floor(this.#tokens), this.#slice());
      // Wait for a whole slice (or all that is wanted), not for every single byte.
      if (n >= Math.min(wanted, this.#slice())) {
        this.#tokens -= n;
        return n;
      }
      const missing = Math.min(wanted, this.#slice()) - this.#tokens;
      await new Promise((r) => setTimeout(r, Math.max(1, Math.ceil((missing / rate) * 1000))));
    }
  }

  #slice(): number {
    return this.#rate === undefined ? Number.POSITIVE_INFINITY : Math.max(1, Math.floor((this.#rate * SLICE_MS) / 1000));
  }

  #capacity(): number {
    return this.#rate === undefined ? Number.POSITIVE_INFINITY : Math.max(1, (this.#rate * BUCKET_MS) / 1000);
  }

  #refill(): void {
    const now = performance.now();
    if (this.#rate !== undefined) this.#tokens = Math.min(this.#capacity(), this.#tokens + ((now - this.#at) / 1000) * this.#rate);
    this.#at = now;
  }
}

export async function startThrottleProxy(options: ThrottleProxyOptions): Promise<ThrottleProxy> {
  const target = typeof options.target === 'string' ? hostPort(options.target) : options.target;
  const stats: ThrottleProxyStats = { clientToServer: 0, serverToClient: 0, connections: 0, open: 0 };
  const buckets = {
    clientToServer: new ByteBucket(options.bytesPerSecond?.clientToServer),
    serverToClient: new ByteBucket(options.bytesPerSecond?.serverToClient),
  };
  const sockets = new Set<Socket>();
  let cut: { remaining: number; done: () => void } | undefined;

  /** Copies `from` to `to` within the direction's limit; returns when `from` ends or either dies. */
  async function pump(from: Socket, to: Socket, direction: 'clientToServer' | 'serverToClient', kill: () => void) {
    try {
      for await (const chunk of from as AsyncIterable<Buffer>) {
        for (let offset = 0; offset < chunk.length; ) {
          let n = await buckets[direction].take(chunk.length - offset);
          const armed = direction === 'serverToClient' ? cut : undefined;
          if (armed) n = Math.min(n, armed.remaining);
          if (to.destroyed) return;
          const ok = to.write(chunk.subarray(offset, offset + n));
          offset += n;
          stats[direction] += n;
          if (armed) {
            armed.remaining -= n;
            if (armed.remaining === 0) {
              cut = undefined;
              // Let the last bytes reach the client before the connection dies.
              await new Promise<void>((resolve) => to.write('', () => resolve()));
              kill();
              armed.done();
              return;
            }
          }
          if (!ok) await once(to, 'drain');
        }
      }
      to.end();
    } catch {
      kill();
    }
  }

  // Half-open on both sides: each direction ends on its own, once its last byte is through.
  const server = createServer({ allowHalfOpen: true }, (client) => {
    stats.connections++;
    stats.open++;
    const upstream = connect({ port: target.port, host: target.host, allowHalfOpen: true });
    sockets.add(client).add(upstream);
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', kill);
    upstream.on('error', kill);
    client.once('close', () => {
      sockets.delete(client);
      stats.open--;
      upstream.destroy(); // nobody left to answer
    });
    upstream.once('close', () => sockets.delete(upstream));
    void pump(client, upstream, 'clientToServer', kill);
    void pump(upstream, client, 'serverToClient', kill);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stats,
    setRate: (direction, rate) => buckets[direction].setRate(rate),
    cutAfterServerToClientBytes(bytes) {
      if (!Number.isSafeInteger(bytes) || bytes < 1) throw new RangeError(`bytes must be a positive integer, got ${bytes}`);
      return new Promise<void>((resolve) => {
        cut = { remaining: bytes, done: resolve };
      });
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

function hostPort(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80)) };
}
