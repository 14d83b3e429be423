import { createContext, runInContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { bundleWorkflowCode } from '@temporalio/worker';
import { HumeBatchEntry } from '../src/schemas/batch.js';
import { HumeJobEntry } from '../src/schemas/humeJob.js';
import { HumeBatchInput, HumeJobInput } from '../src/schemas/inputs.js';
import { sharedWorkflowModules, workflowsPath } from '../src/worker.js';

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

/** Freezes an object and what its own properties hold, a function only itself: what the SDK does to shared modules. */
function deepFreeze(value: unknown, seen = new WeakSet<object>()): void {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function') || seen.has(value)) return;
  seen.add(value);
  if (typeof value === 'object') {
    for (const key of Reflect.ownKeys(value)) {
      try {
        deepFreeze((value as Record<string | symbol, unknown>)[key], seen);
      } catch {
        // Some objects cannot be frozen (typed arrays); the SDK skips them too.
      }
    }
  }
  try {
    Object.freeze(value);
  } catch {
    // As above.
  }
}

describe('run and job input', () => {
  it('refuses a duration Temporal cannot read, naming the field, so no workflow task can choke on it', () => {
    const job = HumeJobInput.safeParse({ texts: ['x'], resultDir: '/tmp/r', polling: { firstPollAfter: 'soon' } });
    expect(job.success).toBe(false);
    expect(job.error?.issues[0]?.path).toEqual(['polling', 'firstPollAfter']);
    expect(HumeJobInput.safeParse({ texts: ['x'], resultDir: '/tmp/r', polling: { firstPollAfter: '3 minutes', maxInterval: 500 } }).success).toBe(true);
  });

  it('needs exactly one source of items, or a redrive of a named run', () => {
    const config = {};
    expect(HumeBatchInput.safeParse({ outDir: '/o', config }).success).toBe(false);
    expect(HumeBatchInput.safeParse({ outDir: '/o', manifest: { path: 'm.jsonl' }, items: [{ text: 'a' }] }).success).toBe(false);
    expect(HumeBatchInput.safeParse({ outDir: '/o', items: [{ text: 'a' }] }).success).toBe(true);
    expect(HumeBatchInput.safeParse({ outDir: '/o', redrive: true }).success).toBe(false);
    expect(HumeBatchInput.safeParse({ outDir: '/o', redrive: true, runId: 'r1' }).success).toBe(true);
  });

  it('is checked at a workflow\'s entry field by field, the model config only as an object: the activities that send it check it whole', () => {
    const bad = { texts: ['x'], resultDir: '/tmp/r', config: { models: { face: { prob_threshold: 7 } } } };
    expect(HumeJobEntry.safeParse(bad).success).toBe(true);
    expect(HumeJobInput.safeParse(bad).error?.issues[0]?.path).toEqual(['config', 'models', 'face', 'prob_threshold']);
    expect(HumeJobEntry.safeParse({ ...bad, config: 'face' }).error?.issues[0]?.path).toEqual(['config']);
    expect(HumeJobEntry.safeParse({ texts: ['x'], resultDir: '/tmp/r', polling: { firstPollAfter: 'soon' } }).error?.issues[0]?.path).toEqual(['polling', 'firstPollAfter']);
    expect(HumeBatchEntry.safeParse({ outDir: '/o', items: [{ text: 'a' }], maxJobsInFlight: 0 }).error?.issues[0]?.path).toEqual(['maxJobsInFlight']);
  });

  it('keeps Hume\'s schemas out of the workflow bundle', async () => {
    const { code } = await bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: quiet });
    expect(code).toContain('./src/schemas/humeJob.ts');
    expect(code).not.toContain('./src/hume/schemas.ts');
  }, 60_000);

  it('shares zod between executions: loaded once and frozen, without workflow code; each execution builds and checks its own schemas', async () => {
    const { code } = await bundleWorkflowCode({ workflowsPath: workflowsPath(), preloadModules: sharedWorkflowModules(), logger: quiet });
    // As the SDK's reusable V8 context does: one module cache for what loads before any workflow,
    // frozen with the globals it set; one cache per execution.
    const shared = new Map<string | symbol, unknown>();
    let cache = shared;
    const context = createContext({ TextEncoder, TextDecoder, URL, URLSearchParams, AbortController, AbortSignal, Event, EventTarget });
    const hostGlobals = new Set(Object.keys(context));
    Object.defineProperty(context, '__webpack_module_cache__', {
      value: new Proxy({}, { get: (_, id) => shared.get(id) ?? cache.get(id), set: (_, id, module) => (cache.set(id, module), true), deleteProperty: (_, id) => cache.delete(id) }),
    });
    runInContext(code, context);
    const beforePreload = new Set(shared.keys());
    runInContext('__TEMPORAL__.preloadModules()', context);
    const preloaded = [...shared.keys()].map(String).filter((id) => !beforePreload.has(id));
    expect(preloaded.some((id) => id.endsWith('/zod/v4/classic/schemas.js'))).toBe(true);
    expect(preloaded.filter((id) => id.includes('@temporalio/') || id.startsWith('./src/schemas/'))).toEqual([]);
    for (const module of shared.values()) deepFreeze(module);
    for (const name of Object.keys(context)) if (!hostGlobals.has(name)) deepFreeze((context as Record<string, unknown>)[name]);

    for (const execution of [1, 2]) {
      cache = new Map();
      runInContext('__TEMPORAL__.importWorkflows()', context);
      const perExecution = [...cache.keys()].map(String);
      expect(perExecution).toEqual(expect.arrayContaining(['./src/workflows/humeBatch.ts', './src/schemas/humeJob.ts']));
      expect(perExecution.filter((id) => id.includes('/zod/'))).toEqual([]);
      const { HumeJobEntry: entry } = (cache.get('./src/schemas/humeJob.ts') as { exports: { HumeJobEntry: typeof HumeJobEntry } }).exports;
      expect(entry.safeParse({ texts: ['x'], resultDir: '/tmp/r', polling: { firstPollAfter: '3 minutes' } }).success, `execution ${execution}`).toBe(true);
      expect(entry.safeParse({ texts: ['x'], resultDir: '/tmp/r', polling: { firstPollAfter: 'soon' } }).error?.issues[0]?.path).toEqual(['polling', 'firstPollAfter']);
    }
  }, 60_000);
});
