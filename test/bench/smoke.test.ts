/**
 * Keeps `npm run bench -- --quick` runnable: runs it as a user would and checks that it prints
 * the table with every benchmark. No timing is asserted: benchmarks are not tests.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/index.ts', ...args], { cwd: ROOT, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

it('npm run bench -- --quick prints the table of every benchmark', { timeout: 300_000 }, async () => {
  const { code, stdout, stderr } = await runBench(['--quick']);
  expect(code, stderr).toBe(0);
  expect(stdout).toMatch(/^temporal-hume bench --quick: \d+ cores/);
  expect(stdout).toMatch(/^Benchmark\s+Case\s+Figure\s+Value\s+Target\s+Met$/m);
  for (const bench of ['1 vs script', '2 throughput', '3 plan', '4 history', '5 results', '6 transfer', '7 face-api', '8 end to end']) {
    expect(stdout).toMatch(new RegExp(`^${bench}\\s`, 'm'));
  }
});
