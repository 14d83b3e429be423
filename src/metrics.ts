/**
 * Our metrics, through the Temporal SDK's metric meter, so they join the SDK's own wherever the
 * worker's Runtime exports them (Prometheus, OpenTelemetry). Activities and the Hume client count
 * on the worker's meter; workflows on theirs (`metricMeter` of @temporalio/workflow, silent
 * during replay).
 */
import type { MetricMeter } from '@temporalio/common';
import { Runtime } from '@temporalio/worker';
import type { RequestObserver } from './hume/http.js';
import { METRICS } from './workflows/definitions.js';

export { METRICS };

/**
 * Bucket boundaries (ms) for our histograms: the SDK's default ones end at 10 s, where a
 * download or a Hume job has only begun. For a worker's own Runtime (`histogramBucketOverrides`).
 */
export const HISTOGRAM_BUCKETS: Record<string, number[]> = {
  [METRICS.requestLatency]: [50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000, 1_800_000],
  [METRICS.jobLatency]: [1_000, 5_000, 30_000, 60_000, 300_000, 900_000, 3_600_000, 10_800_000, 43_200_000, 86_400_000],
};

/** A HumeClient observer counting requests, bytes and latencies on `meter` (looked up at the first request, once the Runtime is set up). */
export function humeRequestMetrics(meter: () => MetricMeter = () => Runtime.instance().metricMeter): RequestObserver {
  let instruments: ReturnType<typeof requestInstruments> | undefined;
  return (o) => {
    instruments ??= requestInstruments(meter());
    const tags = { call: o.call };
    instruments.requests.add(1, { ...tags, status: String(o.status) });
    instruments.latency.record(Math.round(o.durationMs), tags);
    if (o.bytesSent > 0) instruments.sent.add(o.bytesSent, tags);
    if (o.bytesReceived > 0) instruments.received.add(o.bytesReceived, tags);
  };
}

/** A receiver's `onCallback` counting accepted and rejected callbacks on the worker Runtime's meter. */
export function callbackMetrics(meter: () => MetricMeter = () => Runtime.instance().metricMeter): (status: number) => void {
  let counter: ReturnType<MetricMeter['createCounter']> | undefined;
  return (status) => {
    counter ??= meter().createCounter(METRICS.callbacks, '1', 'callbacks the receiver took or refused');
    counter.add(1, { outcome: status === 200 ? 'accepted' : 'rejected', status: String(status) });
  };
}

function requestInstruments(meter: MetricMeter) {
  return {
    requests: meter.createCounter(METRICS.requests, '1', 'requests to Hume by call and status'),
    latency: meter.createHistogram(METRICS.requestLatency, 'int', 'ms', 'duration of requests to Hume'),
    sent: meter.createCounter(METRICS.bytesSent, 'By', 'bytes uploaded to Hume'),
    received: meter.createCounter(METRICS.bytesReceived, 'By', 'bytes downloaded from Hume'),
  };
}
