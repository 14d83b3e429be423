/**
 * The Hume-compatible server of benchmarks 1, 2 and 8, in a process of its own, as Hume is a
 * server elsewhere: its work (taking each text into a file, writing predictions, calling back)
 * neither waits behind the worker's event loop nor counts as the worker's CPU. Started from the
 * checkout's CLI (`temporal-hume emulator`), seeded and timed as asked; it prints its address.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { cpuMsOf } from './proc.js';

const CLI = fileURLToPath(new URL('../bin/temporal-hume.js', import.meta.url));
const READY_TIMEOUT_MS = 60_000;
/** A server not gone this long after SIGTERM is killed. */
const STOP_TIMEOUT_MS = 10_000;

export interface BenchHume {
  url: string;
  apiKey: string;
  /** API requests the server has answered so far, all routes. */
  requests(): Promise<number>;
  /** CPU the server's process has used so far, ms. */
  cpuMs(): number;
  close(): Promise<void>;
}

type Range = [number, number] | number;
export interface BenchHumeOptions {
  seed?: number;
  timing: { queuedMs: Range; processingMs: Range };
}

const flag = (range: Range): string => (typeof range === 'number' ? `${range}` : `${range[0]}-${range[1]}`);

export async function startBenchHume({ seed, timing }: BenchHumeOptions): Promise<BenchHume> {
  const apiKey = `bench-${randomUUID()}`;
  const args = [CLI, 'emulator', '--host', '127.0.0.1', '--port', '0', '--api-key', apiKey, '--queued-ms', flag(timing.queuedMs), '--processing-ms', flag(timing.processingMs)];
  if (seed !== undefined) args.push('--seed', `${seed}`);
  // Its stderr (the backends line) joins the bench's progress; stdout carries only its address.
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  // A bench that ends on an error leaves no server listening.
  const orphaned = () => child.kill('SIGKILL');
  process.once('exit', orphaned);
  const url = await addressOf(child).catch((err: unknown) => {
    process.off('exit', orphaned);
    throw err;
  });
  const stats = async () => {
    const res = await request(`${url}/_emulator/stats`, { headers: { 'x-hume-api-key': apiKey } });
    if (res.statusCode !== 200) throw new Error(`the bench's Hume-compatible server answered its stats with ${res.statusCode}`);
    return (await res.body.json()) as { requests: Record<string, number> };
  };
  return {
    url,
    apiKey,
    requests: async () => Object.values((await stats()).requests).reduce((n, r) => n + r, 0),
    cpuMs: () => cpuMsOf(child.pid!),
    close: async () => {
      await stop(child);
      process.off('exit', orphaned);
    },
  };
}

function addressOf(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const settle = (outcome: () => void) => {
      clearTimeout(timer);
      child.off('exit', exited);
      child.off('error', failed);
      lines.close();
      outcome();
    };
    const failed = (err: Error) =>
      settle(() => {
        child.kill('SIGKILL');
        reject(err);
      });
    const exited = (code: number | null) => failed(new Error(`the bench's Hume-compatible server exited with ${code} before it listened`));
    const timer = setTimeout(() => failed(new Error(`the bench's Hume-compatible server did not start within ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
    lines.on('line', (line) => {
      const match = /^listening on (http:\/\/\S+)$/.exec(line);
      if (match) settle(() => resolve(match[1]!));
    });
    child.once('exit', exited);
    child.once('error', failed);
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
