/** `temporal-hume worker`: the standalone worker (+ webhook receiver when callbacks are configured). */
import { DefaultLogger, type LogLevel } from '@temporalio/worker';
import { Command } from 'commander';
import { createLogger } from '../logging.js';
import { readyLine, runWorkerFromEnv } from '../worker.js';

export function workerCommand(): Command {
  return new Command('worker')
    .description(
      'run a worker for humeJob/humeBatch, configured by the environment (HUME_API_KEY, HUME_BASE_URL, TEMPORAL_ADDRESS, TEMPORAL_TASK_QUEUE, HUME_CALLBACK_BASE_URL, HUME_WEBHOOK_SECRET, HUME_RESULTS_ROOT, …); prints "worker ready: task queue Q on ADDRESS (NAMESPACE); …" on stdout once it polls, JSON logs on stderr; stops gracefully on SIGINT/SIGTERM',
    )
    .action(async () => {
      const logger = createLogger();
      // The SDK's own logs go through the same scrubbed JSON logger.
      const levels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
        TRACE: 'trace',
        DEBUG: 'debug',
        INFO: 'info',
        WARN: 'warn',
        ERROR: 'error',
      };
      await runWorkerFromEnv(process.env, (message) => logger.info(message), {
        sdkLogger: new DefaultLogger('INFO', ({ level, message, meta }) => logger[levels[level]](meta ?? {}, message)),
        warn: (message) => logger.warn(message),
        onReady: (ready) => void process.stdout.write(`${readyLine(ready)}\n`),
      });
    });
}
