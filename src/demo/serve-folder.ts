/** Serves the files of one folder at `/<name>` on loopback: media for the demo and tests' URL items. */
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';

export interface ServedFolder {
  url: string;
  close(): Promise<void>;
}

export async function serveFolder(dir: string, host = '127.0.0.1'): Promise<ServedFolder> {
  const server = createServer((req, res) => {
    // basename() keeps requests inside the folder.
    const stream = createReadStream(join(dir, basename(decodeURIComponent(req.url ?? '/'))));
    stream.on('error', () => res.writeHead(404).end());
    stream.once('open', () => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      stream.pipe(res);
    });
  });
  server.listen(0, host);
  await once(server, 'listening');
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
