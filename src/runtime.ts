/**
 * The process's Temporal Runtime: where the SDK's logs go and where metrics (the SDK's and ours)
 * are served. Installed once, before any connection, by each long-running command.
 */
import { type Logger, Runtime } from '@temporalio/worker';
import { ConfigError } from './config.js';
import { HISTOGRAM_BUCKETS } from './metrics.js';

export interface RuntimeSetup {
  /** Where the SDK's own log lines go. @default the SDK's console logger */
  sdkLogger?: Logger;
  /** `HOST:PORT` for Prometheus (`/metrics`), TEMPORAL_HUME_METRICS_ADDRESS. */
  metricsAddress?: string;
  /** Signals on which the Runtime shuts its workers down. @default the SDK's (SIGINT, SIGTERM, SIGQUIT, SIGUSR2) */
  shutdownSignals?: NodeJS.Signals[];
}

/**
 * Installs the Runtime when there is something to set; a metrics address that cannot be served is one line.
 * With `sdkLogger`, the SDK core's own lines (a workflow task running long, a poll failing) go
 * through it too: by default the core prints them on stdout, where a command's output goes.
 */
export function installRuntime(setup: RuntimeSetup, who: string): void {
  const { sdkLogger, metricsAddress, shutdownSignals } = setup;
  if (!sdkLogger && !metricsAddress) return;
  try {
    // Creates the native runtime at once, so a metrics port already taken is said now.
    Runtime.install({
      ...(sdkLogger && { logger: sdkLogger }),
      ...(shutdownSignals && { shutdownSignals }),
      telemetryOptions: {
        // Forwarding holds the event loop until the Runtime shuts down, which it does with the last worker or native connection: a receiver alone has none.
        ...(sdkLogger && { logging: { forward: {} } }),
        ...(metricsAddress && { metrics: { prometheus: { bindAddress: metricsAddress, histogramBucketOverrides: HISTOGRAM_BUCKETS } } }),
      },
    });
  } catch (err) {
    const what = (err as Error).name === 'IllegalStateError'
      ? 'the Temporal runtime of this process was already set up elsewhere'
      : metricsAddress ? `cannot serve metrics at ${metricsAddress} (TEMPORAL_HUME_METRICS_ADDRESS)` : 'cannot set up the Temporal runtime';
    throw new ConfigError(`${who} not started: ${what}: ${(err as Error).message}`, { cause: err });
  }
}
