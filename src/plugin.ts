/**
 * `HumeBatchPlugin`: registers our activities (and, optionally, hosts the webhook receiver) on a
 * user's own worker in one line, in the `SimplePlugin` style of Temporal's own plugins. It leaves
 * the worker's workflows alone: an activity-only worker stays one, a `workflowsPath` or a prebuilt
 * `workflowBundle` stays the user's (re-export `humeJob` and `humeBatch` from
 * `temporal-hume/workflows` in it). Only `workflows: 'ours'` gives a worker without workflows ours.
 *
 * Split workers: the job status check, the submit of a job without files and the fetch of a few
 * short texts' predictions are local activities, which run on the worker that runs the workflow, so a workflow-only worker takes the plugin with
 * the same Hume client, callbacks and storage and `activities: 'local'` (those only), and the
 * activity workers take it with every activity (the default).
 */
import type { Client } from '@temporalio/client';
import { SimplePlugin } from '@temporalio/plugin';
import type { BundleOptions, WorkerInterceptors, WorkerOptions } from '@temporalio/worker';
import { z } from 'zod';
import { type CallbackConfig, createActivities } from './activities/index.js';
import { HumeClient, type HumeClientOptions } from './hume/client.js';
import { callbackMetrics, humeRequestMetrics } from './metrics.js';
import { describeIssues } from './schemas/issues.js';
import { createStorage, type Storage } from './store/storage.js';
import { type RunningReceiver, startReceiver } from './webhook/receiver.js';
import { preloadModulesFor, workflowsPath } from './worker.js';

export interface HumeBatchPluginOptions {
  /** The Hume client, or its options (API key, base URL of Hume or a Hume-compatible server). The key stays in the worker. */
  hume: HumeClient | HumeClientOptions;
  /** Where Hume calls back (the receiver's public base URL) and the secrets that sign the URLs; without it jobs are polled. */
  callbacks?: CallbackConfig;
  /** Where manifests and results are read and written (local paths and `s3://`). @default from the environment (the AWS SDK's chain) */
  storage?: Storage;
  /** Also host the webhook receiver for as long as the worker runs (needs `callbacks`). */
  receiver?: { client: Client; host?: string; port?: number };
  /** `'ours'`: a worker with no `workflowsPath` or `workflowBundle` of its own runs temporal-hume's workflows file. @default the worker's workflows are left alone */
  workflows?: 'ours';
  /** Worker interceptors (OpenTelemetry's, say), added to the worker's own. */
  interceptors?: WorkerInterceptors;
  /**
   * `'local'`: only the local activities our workflows run on their own worker, for a workflow-only
   * worker; when they are its only activities at this plugin's turn, it stops polling activity
   * tasks (list this plugin after any other plugin that adds activities). @default 'all'
   */
  activities?: 'all' | 'local';
}

/**
 * Activities our workflows run as local activities, on the workflow's own worker. `humeSubmitJob`
 * and `humeFetchResults` also run scheduled, on activity workers (files, large jobs, and whatever
 * a local try hands over).
 */
export const LOCAL_ACTIVITIES = ['humeCheckJob', 'humeSubmitJob', 'humeFetchResults'] as const;

/** Checked before anything is built: each problem names its option. */
const Options = z.object({
  hume: z.custom<HumeClient | HumeClientOptions>((value) => value instanceof HumeClient || (typeof value === 'object' && value !== null), {
    message: 'required: a HumeClient or { apiKey, baseUrl? }',
  }),
  callbacks: z
    .object({
      baseUrl: z.url({ protocol: /^https?$/, error: 'an http(s) URL at which Hume reaches the receiver' }),
      secrets: z.array(z.string().min(16, 'each secret needs at least 16 characters')).min(1, 'at least one secret'),
    })
    .optional(),
  storage: z.custom<Storage>((value) => typeof (value as Storage | undefined)?.folder === 'function', { message: 'a Storage (createStorage())' }).optional(),
  receiver: z.object({ client: z.custom<Client>((value) => typeof value === 'object' && value !== null, { message: 'a Temporal Client' }), host: z.string().optional(), port: z.number().int().min(0).max(65535).optional() }).optional(),
  workflows: z.literal('ours').optional(),
  activities: z.enum(['all', 'local']).optional(),
  interceptors: z.custom<WorkerInterceptors>((value) => typeof value === 'object' && value !== null, { message: 'WorkerInterceptors' }).optional(),
});

export class HumeBatchPlugin extends SimplePlugin {
  readonly #ownWorkflows: boolean;
  readonly #localOnly: boolean;

  constructor(options: HumeBatchPluginOptions) {
    const parsed = Options.safeParse(options ?? {});
    if (!parsed.success) throw new TypeError(`HumeBatchPlugin: ${describeIssues(parsed.error, 'options')}`);
    if (options.receiver && !options.callbacks) throw new TypeError('HumeBatchPlugin: options.receiver needs options.callbacks (base URL and secrets)');
    // Built here, it counts its requests on the worker's metric meter; a client given is used as it is.
    const hume = options.hume instanceof HumeClient ? options.hume : new HumeClient({ observer: humeRequestMetrics(), ...options.hume });
    const all = createActivities({ hume, callbacks: options.callbacks, storage: options.storage ?? createStorage() });
    const ours = options.activities === 'local' ? Object.fromEntries(LOCAL_ACTIVITIES.map((name) => [name, all[name]])) : all;
    const { receiver, callbacks } = options;
    super({
      name: 'temporal-hume',
      activities: (existing) => ({ ...(existing as object | undefined), ...ours }),
      workerInterceptors: options.interceptors,
      runContext: receiver && callbacks
        ? async (next) => {
            let running: RunningReceiver | undefined;
            try {
              running = await startReceiver({ onCallback: callbackMetrics(), ...receiver, secrets: callbacks.secrets });
              await next();
            } finally {
              await running?.close();
            }
          }
        : undefined,
    });
    this.#ownWorkflows = options.workflows === 'ours';
    this.#localOnly = options.activities === 'local';
  }

  /**
   * A bundle of our workflows file loads zod once per workflow thread, not once per execution
   * (`sharedWorkflowModules`); a user's own file is left as it is (a shared zod is frozen).
   */
  override configureBundler(options: BundleOptions): BundleOptions {
    return super.configureBundler({ ...options, preloadModules: preloadModulesFor(options.workflowsPath, options.preloadModules) });
  }

  override configureWorker(options: WorkerOptions): WorkerOptions {
    // Ours only when asked for, and only where the worker has no workflows of its own; set before
    // the interceptors are resolved, so their workflow modules join ours.
    const ownWorkflows = this.#ownWorkflows && !options.workflowsPath && !options.workflowBundle;
    const configured = super.configureWorker(ownWorkflows ? { ...options, workflowsPath: workflowsPath() } : options);
    // A workflow worker whose only activities are our local ones polls no activity tasks: it is
    // not an activity worker (and the SDK refuses two workers of one process polling the same kind).
    const onlyLocal = Object.keys(configured.activities ?? {}).every((name) => (LOCAL_ACTIVITIES as readonly string[]).includes(name));
    if (this.#localOnly && onlyLocal && configured.enableNonLocalActivities === undefined) return { ...configured, enableNonLocalActivities: false };
    return configured;
  }
}
