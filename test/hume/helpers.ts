/** Loopback HTTP servers and job fixtures shared by the Hume client tests. */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';

export const API_KEY = 'test-key-5f1c9d2e-do-not-leak';

export interface RecordedRequest {
  method: string;
  /** Path and query, as received. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** `performance.now()` when the request's headers arrived. */
  receivedAt: number;
}

export type Handler = (req: RecordedRequest, res: ServerResponse, raw: IncomingMessage) => void | Promise<void>;

export interface TestServer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** A node:http server on 127.0.0.1 that buffers each request body, records it, then calls `handler`. */
export async function startServer(handler: Handler): Promise<TestServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer(async (raw, res) => {
    const receivedAt = performance.now();
    const chunks: Buffer[] = [];
    for await (const chunk of raw) chunks.push(chunk as Buffer);
    const req = { method: raw.method ?? '', url: raw.url ?? '', headers: raw.headers, body: Buffer.concat(chunks), receivedAt };
    requests.push(req);
    try {
      await handler(req, res, raw);
    } catch (e) {
      res.destroy(e as Error);
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

export interface RecordedAnswer {
  status: number;
  /** `performance.now()` when the answer was written. */
  answeredAt: number;
  retryAfterMs?: number;
}

/**
 * A loopback proxy to `target` that records when each request arrives (`requests`) and what was
 * answered when (`answers`): what a server sees, in this process's clock, for rate assertions.
 */
export async function startRecordingProxy(target: string): Promise<TestServer & { answers: RecordedAnswer[] }> {
  const answers: RecordedAnswer[] = [];
  const server = await startServer(async (req, res) => {
    const pick = (name: string) => (typeof req.headers[name] === 'string' ? { [name]: req.headers[name] } : {});
    const upstream = await request(`${target}${req.url}`, {
      method: req.method as 'GET' | 'POST',
      headers: { ...pick('x-hume-api-key'), ...pick('accept'), ...pick('content-type') },
      body: req.method === 'POST' ? req.body : undefined,
    });
    const body = Buffer.from(await upstream.body.arrayBuffer());
    const retryAfter = upstream.headers['retry-after'];
    const headers: Record<string, string> = { 'content-type': String(upstream.headers['content-type'] ?? 'application/json') };
    if (typeof retryAfter === 'string') headers['retry-after'] = retryAfter;
    res.writeHead(upstream.statusCode, headers);
    res.end(body);
    answers.push({
      status: upstream.statusCode,
      answeredAt: performance.now(),
      ...(typeof retryAfter === 'string' ? { retryAfterMs: Number(retryAfter) * 1000 } : {}),
    });
  });
  return { ...server, answers };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** A COMPLETED job in the shape Hume's FERN example shows. */
export function completedJob(jobId: string, createdMs = 1712590457884): Record<string, unknown> {
  return {
    type: 'INFERENCE',
    job_id: jobId,
    request: {
      callback_url: null,
      files: [],
      models: { burst: {}, face: null, facemesh: null, language: null, ner: null, prosody: null },
      notify: false,
      text: [],
      urls: ['https://example.test/a.wav'],
    },
    state: {
      status: 'COMPLETED',
      created_timestamp_ms: createdMs,
      started_timestamp_ms: createdMs + 100,
      ended_timestamp_ms: createdMs + 4000,
      num_predictions: 1,
      num_errors: 0,
    },
  };
}

export interface FileServerOptions {
  /** Answer `Range: bytes=<n>-` with 206 (when `If-Range` matches the ETag); false: always 200. @default true */
  honourRange?: boolean;
  /** Sent as the ETag, and compared with `If-Range`. @default '"v1"' */
  etag?: string;
  /** Write the body in chunks of this many bytes, waiting `everyMs` after each: a server that takes its time. */
  dribble?: { bytes: number; everyMs: number };
  /** Send this many bytes of the body, then nothing more (the connection stays open). */
  stallAfter?: number;
}

export interface FileServer {
  url: string;
  /** The Range and If-Range headers of each request, in order. */
  requests: { url: string; range?: string; ifRange?: string }[];
  /** What a download gets; replace it (with `options.etag`) to change the resource. */
  content: Buffer;
  options: FileServerOptions;
  /** Most responses being written at once. */
  readonly maxInFlight: number;
  close(): Promise<void>;
}

/** A loopback server of one resource, on every path, with the Range behaviour of `options`. */
export async function startFileServer(content: Buffer, options: FileServerOptions = {}): Promise<FileServer> {
  let inFlight = 0;
  const state: FileServer = {
    url: '',
    requests: [],
    content,
    options,
    maxInFlight: 0,
    close: async () => undefined,
  };
  const server = await startServer(async (req, res) => {
    const { honourRange = true, etag = '"v1"', dribble, stallAfter } = state.options;
    const range = typeof req.headers.range === 'string' ? req.headers.range : undefined;
    const ifRange = typeof req.headers['if-range'] === 'string' ? req.headers['if-range'] : undefined;
    state.requests.push({ url: req.url, ...(range && { range }), ...(ifRange && { ifRange }) });
    const data = state.content;
    const start = Number(/^bytes=(\d+)-$/.exec(range ?? '')?.[1] ?? 0);
    const ranged = range !== undefined && honourRange && (ifRange === undefined || ifRange === etag);
    if (ranged && start >= data.length) {
      res.writeHead(416, { 'content-range': `bytes */${data.length}` }).end();
      return;
    }
    const body = ranged ? data.subarray(start) : data;
    res.writeHead(ranged ? 206 : 200, {
      'content-type': 'application/octet-stream',
      'content-length': String(body.length),
      etag,
      ...(ranged && { 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` }),
    });
    inFlight++;
    (state as { maxInFlight: number }).maxInFlight = Math.max(state.maxInFlight, inFlight);
    res.once('close', () => inFlight--);
    const sent = stallAfter === undefined ? body : body.subarray(0, stallAfter);
    const step = dribble?.bytes ?? sent.length;
    for (let i = 0; i < sent.length; i += step) {
      if (dribble && i > 0) await new Promise((r) => setTimeout(r, dribble.everyMs));
      if (!res.write(sent.subarray(i, i + step))) await once(res, 'drain');
    }
    if (stallAfter === undefined) res.end();
  });
  state.url = server.url;
  state.close = server.close;
  return state;
}
