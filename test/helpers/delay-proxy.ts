/**
 * A loopback proxy that holds back the answers to job submissions, so a job can finish (and Hume
 * call back) before the submit activity sees its job id.
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';

export async function startSubmitDelayProxy(target: string, delayMs: number) {
  const server = createServer(async (req, res) => {
    const headers: IncomingHttpHeaders = { ...req.headers, host: new URL(target).host };
    const upstream = await request(`${target}${req.url}`, {
      method: req.method as 'GET',
      headers: headers as Record<string, string>,
      body: req.method === 'GET' || req.method === 'HEAD' ? undefined : req,
    });
    const body = Buffer.from(await upstream.body.arrayBuffer());
    if (req.method === 'POST' && req.url?.startsWith('/v0/batch/jobs')) await sleep(delayMs);
    res.writeHead(upstream.statusCode, { 'content-type': String(upstream.headers['content-type'] ?? 'application/json') });
    res.end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
