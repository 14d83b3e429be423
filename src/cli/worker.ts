/** `temporal-hume worker`: the standalone worker (+ webhook receiver when callbacks are configured). */
import { Command } from 'commander';
import { runWorkerFromEnv } from '../worker.js';

export function workerCommand(): Command {
  return new Command('worker')
    .description(
      'run a worker for humeJob/humeBatch, configured by the environment (HUME_API_KEY, HUME_BASE_URL, TEMPORAL_ADDRESS, TEMPORAL_TASK_QUEUE, HUME_CALLBACK_BASE_URL, HUME_WEBHOOK_SECRET, …); stops gracefully on SIGINT/SIGTERM',
    )
    .action(async () => {
      await runWorkerFromEnv();
    });
}
