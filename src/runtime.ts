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
}

/** Installs the Runtime when there is something to set; a metrics address that cannot be served is one line. */
export function installRuntime(setup: RuntimeSetup, who: string): void {
  const { sdkLogger, metricsAddress } = setup;
  if (!sdkLogger && !metricsAddress) return;
  try {
    Runtime.install({
      ...(sdkLogger && { logger: sdkLogger }),
      ...(metricsAddress && { telemetryOptions: { metrics: { prometheus: { bindAddress: metricsAddress, histogramBucketOverrides: HISTOGRAM_BUCKETS } } } }),
    });
    // The exporter binds when the native runtime starts: now, so a busy port is said at once.
    Runtime.instance();
  } catch (err) {
    const what = metricsAddress ? `cannot serve metrics at ${metricsAddress} (TEMPORAL_HUME_METRICS_ADDRESS)` : 'cannot set up the Temporal runtime';
    throw new ConfigError(`${who} not started: ${what}: ${(err as Error).message}`, { cause: err });
  }
}
