/**
 * `temporal-hume webhook`: the webhook receiver alone, for deployments that scale it apart from
 * the workers. Configured like the worker (HUME_WEBHOOK_SECRET[_PREVIOUS], HUME_WEBHOOK_HOST/PORT,
 * TEMPORAL_*). Prints `listening on http://HOST:PORT` on stdout; JSON logs on stderr.
 */
import { Command } from 'commander';
import { ConfigError, loadHumeEnv, webhookSecrets } from '../config.js';
import { loggerOptions } from '../logging.js';
import { callbackMetrics } from '../metrics.js';
import { installRuntime } from '../runtime.js';
import { startReceiver } from '../webhook/receiver.js';
import { untilSignal } from './signals.js';
import { addTemporalOptions, connectTemporal, type TemporalFlags } from './temporal.js';

export function webhookCommand(): Command {
  const cmd = new Command('webhook').description(
    'run the webhook receiver alone: verifies Hume callbacks and signals the runs (HUME_WEBHOOK_SECRET, HUME_WEBHOOK_SECRET_PREVIOUS, HUME_WEBHOOK_HOST, HUME_WEBHOOK_PORT, TEMPORAL_HUME_METRICS_ADDRESS, TEMPORAL_*); stops on SIGINT/SIGTERM',
  );
  return addTemporalOptions(cmd).action(async (flags: TemporalFlags) => {
    const config = loadHumeEnv();
    const secrets = webhookSecrets(config);
    if (secrets.length === 0) throw new ConfigError('invalid configuration: HUME_WEBHOOK_SECRET is not set: the receiver needs it to verify callbacks');
    // Before the connection: the Runtime serves the callback counts (TEMPORAL_HUME_METRICS_ADDRESS).
    // No shutdown signals: this process stops on its own (no worker for the Runtime to stop).
    installRuntime({ metricsAddress: config.TEMPORAL_HUME_METRICS_ADDRESS, shutdownSignals: [] }, 'webhook receiver');
    // Listening for signals from the start: a stop during startup still shuts down cleanly.
    const stopped = untilSignal();
    const session = await connectTemporal(flags);
    try {
      const receiver = await startReceiver({
        client: session.client,
        secrets,
        host: config.HUME_WEBHOOK_HOST,
        port: config.HUME_WEBHOOK_PORT,
        logger: { ...loggerOptions(), stream: process.stderr },
        // Counted only where they are served: no Runtime (and its console logger) otherwise.
        ...(config.TEMPORAL_HUME_METRICS_ADDRESS && { onCallback: callbackMetrics() }),
      });
      process.stdout.write(`listening on ${receiver.url}\n`);
      if (config.TEMPORAL_HUME_METRICS_ADDRESS) process.stdout.write(`metrics at http://${config.TEMPORAL_HUME_METRICS_ADDRESS}/metrics\n`);
      receiver.app.log.info({ temporal: session.address, namespace: session.namespace }, 'webhook receiver ready');
      const signal = await stopped;
      receiver.app.log.info({ signal }, 'webhook receiver stopping');
      await receiver.close();
    } finally {
      await session.close();
    }
  });
}
