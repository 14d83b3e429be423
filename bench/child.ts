/**
 * Runs a bench script in a child process of its own, so its RSS is its own; the child prints
 * its figures as one JSON line, last on stdout. Children run the project compiled to JavaScript,
 * as the published package and the Docker image run it (dist/): under tsx a process carries the
 * loader's own thread and transform caches, some 30 MB that no deployment has.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
/** Inside the checkout, so the compiled files find node_modules. */
const BUILD = `${root}.cache/bench-build/`;

let built: Promise<void> | undefined;

/** The whole project compiled once per bench process (tsc, ~20 s), so a child never runs a stale build. */
function build(): Promise<void> {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const args = [tsc, '-p', `${root}tsconfig.json`, '--noEmit', 'false', '--declaration', 'false', '--sourceMap', 'false', '--outDir', BUILD];
  built ??= exitOf(spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] })).then((code) => {
    if (code !== 0) throw new Error(`tsc exited with ${code} compiling the bench children`);
  });
  return built;
}

const exitOf = (child: ReturnType<typeof spawn>) =>
  new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });

/** Runs `bench/<name>.ts`, compiled. */
export async function runChild<T>(name: string, args: string[]): Promise<T> {
  await build();
  const child = spawn(process.execPath, [`${BUILD}bench/${name}.js`, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
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
