/** Shared pieces for tests on the real dev server started by the global setup. */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, type Logger, NativeConnection, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { inject } from 'vitest';
import { sharedWorkflowModules } from '../../src/worker.js';

const bundles = new Map<string, Promise<WorkflowBundleWithSourceMap>>();

/**
 * Our workflows plus a user-style parent, bundled once per test file (and per set of workflow
 * interceptor modules), as our workers bundle them.
 */
export function testWorkflowBundle(interceptorModules: string[] = []): Promise<WorkflowBundleWithSourceMap> {
  const key = interceptorModules.join('\n');
  let bundle = bundles.get(key);
  if (!bundle) {
    bundle = bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('../fixtures/workflows.ts', import.meta.url)),
      workflowInterceptorModules: interceptorModules,
      preloadModules: sharedWorkflowModules(),
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
    });
    bundles.set(key, bundle);
  }
  return bundle;
}

export interface TemporalTestContext {
  address: string;
  client: Client;
  nativeConnection: NativeConnection;
  taskQueue: string;
  close(): Promise<void>;
}

let runtimeInstalled = false;

/**
 * Worker state changes at INFO drown test output; warnings and errors still show. Once per process:
 * a test file that reads the SDK's logs installs its own logger first.
 */
export function installQuietRuntime(logger: Logger = new DefaultLogger('WARN')): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger });
  runtimeInstalled = true;
}

/** Connects to the shared dev server, or to `address` when a test runs its own. */
export async function connectTemporal(address = inject('temporalAddress')): Promise<TemporalTestContext> {
  installQuietRuntime();
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  return {
    address,
    client: new Client({ connection }),
    nativeConnection,
    taskQueue: `test-${randomUUID()}`,
    async close() {
      await connection.close();
      await nativeConnection.close();
    },
  };
}

export const uniqueId = (prefix: string) => `${prefix}-${randomUUID()}`;

/** A worker of the fixture workflows (and `activities`) on the test's task queue, running until stopped. */
export async function runFixtureWorker(temporal: TemporalTestContext, activities: Record<string, (...args: never[]) => Promise<unknown>> = {}) {
  const worker = await Worker.create({
    connection: temporal.nativeConnection,
    taskQueue: temporal.taskQueue,
    workflowBundle: await testWorkflowBundle(),
    activities,
  });
  const running = worker.run();
  return {
    async stop(): Promise<void> {
      worker.shutdown();
      await running;
    },
  };
}
