/**
 * Runs a bench script in a child process of its own, so its RSS is its own; the child prints
 * its figures as one JSON line, last on stdout. Children run the project compiled to JavaScript,
 * as the published package and the Docker image run it (dist/): under tsx a process carries the
 * loader's own thread and transform caches, some 30 MB that no deployment has.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));

let built: Promise<string> | undefined;

/**
 * The children and what they import, compiled once per bench process into a folder of its own, so
 * a child never runs a stale build nor one a concurrent bench is rewriting. Type-checking is
 * `npm run typecheck`'s job, so tsc only emits (~3 s). The folder sits inside the checkout so the
 * compiled files find node_modules; a module that finds files relative to itself (the emulator's
 * package.json, the cache folder) would look inside it, which the two children never do.
 */
function build(): Promise<string> {
  built ??= (async () => {
    mkdirSync(`${root}.cache`, { recursive: true });
    const out = mkdtempSync(`${root}.cache/bench-build-`);
    process.once('exit', () => rmSync(out, { recursive: true, force: true }));
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const args = [tsc, '-p', `${root}tsconfig.bench.json`, '--noCheck', '--outDir', out];
    // tsc's messages go to stderr: the bench's stdout is its table.
    const code = await exitOf(spawn(process.execPath, args, { stdio: ['ignore', 2, 'inherit'] }));
    if (code !== 0) throw new Error(`tsc exited with ${code} compiling the bench children`);
    return `${out}/`;
  })();
  return built;
}

const exitOf = (child: ReturnType<typeof spawn>) =>
  new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });

/** Runs `bench/<name>.ts`, compiled; `nodeFlags` go to node before the script (V8's, say). */
export async function runChild<T>(name: string, args: string[], nodeFlags: string[] = []): Promise<T> {
  const out = await build();
  const child = spawn(process.execPath, [...nodeFlags, `${out}bench/${name}.js`, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const code = await exitOf(child);
  const last = stdout.trim().split('\n').at(-1) ?? '';
  if (code !== 0) throw new Error(`${name} exited with ${code}: ${last}`);
  return JSON.parse(last) as T;
}

/** What a child prints last. */
export function report(figures: object): void {
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}
