/**
 * Temporal's time-skipping test server for tests outside test/temporal/ (no dev server needed): the Java
 * build fetched into .cache/ by resolveTemporalTestServer(), started and stopped by @temporalio/testing.
 */
import { fileURLToPath } from 'node:url';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { type DevServerOptions, INDEXED_VALUE_TYPES, resolveTemporalTestServer } from '../../src/devserver/index.js';
import { SEARCH_ATTRIBUTES } from '../../src/workflows/definitions.js';
import { installQuietRuntime } from './temporal.js';

/**
 * A fresh test server on a free port. Time only skips while a client awaits a workflow's result (or during
 * `env.sleep`), and it is global to the server: one environment per test file, workflows awaited one at a time.
 */
export async function startTimeSkippingEnv(
  options: { searchAttributes?: NonNullable<DevServerOptions['searchAttributes']> } = {},
): Promise<TestWorkflowEnvironment> {
  installQuietRuntime();
  const path = await resolveTemporalTestServer();
  // existing-path: the SDK runs `<path> <port>` and kills it on teardown, as it would its own download.
  const start = () => TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
  let env: TestWorkflowEnvironment;
  try {
    env = await start();
  } catch (err) {
    // The SDK gives the JVM 5 s to answer (it needs ~0.5 s idle, ~3 s with both cores busy): one more go on a loaded machine.
    if (!/did not start within/.test((err as Error).message)) throw err;
    env = await start();
  }
  // An upsert of an unregistered attribute fails the workflow task over and over: register ours, as the dev server does.
  const searchAttributes = options.searchAttributes ?? SEARCH_ATTRIBUTES;
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(Object.entries(searchAttributes).map(([name, type]) => [name, INDEXED_VALUE_TYPES[type]])),
  });
  return env;
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Only test/fixtures/time-skipping.ts: quicker to bundle than all our workflows. */
export function timeSkippingBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('../fixtures/time-skipping.ts', import.meta.url)),
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
  });
  return bundle;
}
