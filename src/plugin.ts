/**
 * `HumeBatchPlugin`: registers our activities (and, optionally, the webhook receiver) on a user's
 * own worker in one line. Workflows run from the user's bundle: re-export `humeJob` and `humeBatch`
 * from `temporal-hume/workflows` in your workflows file; without a workflowsPath, ours is used.
 */
import type { Client } from '@temporalio/client';
import { SimplePlugin } from '@temporalio/plugin';
import { type CallbackConfig, createActivities } from './activities/index.js';
import { HumeClient, type HumeClientOptions } from './hume/client.js';
import { createStorage, type Storage } from './store/storage.js';
import { type RunningReceiver, startReceiver } from './webhook/receiver.js';
import { workflowsPath } from './worker.js';

export interface HumeBatchPluginOptions {
  /** The Hume client, or its options (API key, base URL). The key stays in the worker. */
  hume: HumeClient | HumeClientOptions;
  /** Where Hume calls back; without it jobs are polled. */
  callbacks?: CallbackConfig;
  /** Where manifests and results are read and written (local paths and `s3://`). @default from the environment (the AWS SDK's chain) */
  storage?: Storage;
  /** Also run the webhook receiver for as long as the worker runs. */
  receiver?: { client: Client; host?: string; port?: number };
}

export class HumeBatchPlugin extends SimplePlugin {
  constructor(options: HumeBatchPluginOptions) {
    if (!options?.hume) throw new TypeError('HumeBatchPlugin: options.hume is required (a HumeClient or { apiKey })');
    if (options.receiver && !options.callbacks) {
      throw new TypeError('HumeBatchPlugin: options.receiver needs options.callbacks (base URL and secrets)');
    }
    const hume = options.hume instanceof HumeClient ? options.hume : new HumeClient(options.hume);
    const ours = createActivities({ hume, callbacks: options.callbacks, storage: options.storage ?? createStorage() });
    const { receiver, callbacks } = options;
    super({
      name: 'temporal-hume',
      activities: (existing) => ({ ...(existing as object | undefined), ...ours }),
      workflowsPath: (existing) => existing ?? workflowsPath(),
      runContext: receiver && callbacks
        ? async (next) => {
            let running: RunningReceiver | undefined;
            try {
              running = await startReceiver({ ...receiver, secrets: callbacks.secrets });
              await next();
            } finally {
              await running?.close();
            }
          }
        : undefined,
    });
  }
}
