/** Shared helpers for the emulator tests: an HTTP client bound to one emulator, a local server, the CLI as a process. */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HumeEmulator } from '../../src/emulator/index.js';

export interface Answer<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** Calls the emulator with its key; `path` is relative to the base URL. */
export async function call<T = any>(
  emulator: HumeEmulator,
  path: string,
  init: { method?: string; json?: unknown; body?: NonNullable<RequestInit['body']>; headers?: Record<string, string> } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { 'x-hume-api-key': emulator.apiKey, ...init.headers };
  let body = init.body;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  }
  const res = await fetch(`${emulator.url}${path}`, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body: body ?? null });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}

export async function submit(emulator: HumeEmulator, request: unknown): Promise<string> {
  const res = await call<{ job_id: string }>(emulator, '/v0/batch/jobs', { json: request });
  if (res.status !== 200) throw new Error(`submit failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.job_id;
}

/** Polls job details until the job reaches one of `statuses`. */
export async function waitForStatus(emulator: HumeEmulator, id: string, statuses = ['COMPLETED', 'FAILED'], timeoutMs = 10_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await call(emulator, `/v0/batch/jobs/${id}`);
    if (statuses.includes(res.body?.state?.status)) return res.body;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${res.body?.state?.status}`);
    await sleep(20);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** A loopback HTTP server recording every request; `handler` answers (default 200 "ok"). */
export async function localServer(handler?: (req: Received, res: ServerResponse) => void) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      received.push(entry);
      if (handler) handler(entry, res);
      else res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A CLI process serving the emulator: its URL once `listening on` is printed, what it printed, and its exit code. */
export interface EmulatorProcess {
  url: string;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

/** Runs `node --import tsx <script> ...args` and waits for its exact `listening on URL` line on stdout. */
export async function spawnEmulator(script: string, args: string[]): Promise<EmulatorProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(stdout);
      if (m?.[1]) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  return {
    url,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
