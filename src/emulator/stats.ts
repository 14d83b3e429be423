import type { FaultRoute } from './options.js';

/** Counters for tests and the `/_emulator/stats` endpoint. */
export interface EmulatorStats {
  jobsCreated: number;
  jobsCompleted: number;
  jobsFailed: number;
  /** API requests received per route, faulted ones included. */
  requests: Record<FaultRoute, number>;
  /** Requests answered by an injected fault (5xx, 429 or reset) instead of the handler. */
  faultsInjected: number;
  /** Requests refused with 429 by the rate limit or the queued-jobs cap. */
  throttled: number;
  /** Callback POSTs made, retries and duplicates included. */
  callbackAttempts: number;
  /** Callback POSTs answered 2xx. */
  callbacksSent: number;
  /** Callbacks given up after every retry. */
  callbacksFailed: number;
  /** Callbacks never sent because of `callbackDropRate`. */
  callbacksDropped: number;
  /** Predictions and artifacts requests answered 206 (a `Range` honoured). */
  rangeRequests: number;
  /** Body bytes of predictions and artifacts sent, ranges included. */
  bytesServed: number;
}

export const createStats = (): EmulatorStats => ({
  jobsCreated: 0,
  jobsCompleted: 0,
  jobsFailed: 0,
  requests: { list: 0, submit: 0, details: 0, predictions: 0, artifacts: 0 },
  faultsInjected: 0,
  throttled: 0,
  callbackAttempts: 0,
  callbacksSent: 0,
  callbacksFailed: 0,
  callbacksDropped: 0,
  rangeRequests: 0,
  bytesServed: 0,
});
