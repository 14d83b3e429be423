/**
 * Runs a bench script in a child process of its own, so its RSS is its own; the child prints
 * its figures as one JSON line, last on stdout.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export async function runChild<T>(script: string, args: string[]): Promise<T> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', path, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  const last = stdout.trim().split('\n').at(-1) ?? '';
  if (code !== 0) throw new Error(`${script} exited with ${code}: ${last}`);
  return JSON.parse(last) as T;
}

/** What a child prints last. */
export function report(figures: object): void {
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}
