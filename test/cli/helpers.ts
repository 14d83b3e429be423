/** Shared by the CLI tests: a clean environment for the spawned bin, and the one-line error check. */
import { expect } from 'vitest';

/** This machine's environment without Hume or Temporal settings, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(HUME_|TEMPORAL_)/.test(key))), ...extra };
}

/** Exit code `code` and exactly one line on stderr, matching `pattern`, with no stack trace. */
export function expectOneLine(result: { code: number | null; stderr: string }, code: number, pattern: RegExp): void {
  expect(result.code, result.stderr).toBe(code);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^temporal-hume: /);
  expect(lines[0]).toMatch(pattern);
}
