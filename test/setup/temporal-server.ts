/**
 * Vitest global setup: one real Temporal dev server for every test in `test/temporal/`,
 * built from the Go module proxy on first use, stopped when the run ends (even a failed one).
 */
import type { TestProject } from 'vitest/node';
import { startDevServer } from '../../src/devserver/index.js';
import { SEARCH_ATTRIBUTES } from '../../src/workflows/definitions.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
  }
}

export default async function setup(project: TestProject) {
  const server = await startDevServer({ headless: true, searchAttributes: SEARCH_ATTRIBUTES });
  project.provide('temporalAddress', server.address);
  return () => server.stop();
}
