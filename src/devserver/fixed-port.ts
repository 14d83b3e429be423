/** Ports for servers that restart on the port they had (PostgreSQL, the full Temporal server). */
import { once } from 'node:events';
import { createServer } from 'node:net';

// Below Linux's ephemeral range (32768–60999), so no outgoing connection takes the port while its server
// is down for a restart; and below 32768 because Temporal's cluster_membership.rpc_port is a SMALLINT.
const LOW = 10_000;
const HIGH = 32_767;
const TRIES = 200;
const handedOut = new Set<number>();

/** A port free on `host` now, in 10000–32767, not handed out before by this process. */
export async function freeFixedPort(host = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < TRIES; i++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW + 1));
    if (handedOut.has(port) || !(await canListen(host, port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port on ${host} in ${LOW}-${HIGH} after ${TRIES} tries`);
}

async function canListen(host: string, port: number): Promise<boolean> {
  const server = createServer();
  server.listen(port, host);
  try {
    await once(server, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    server.close();
  }
}
