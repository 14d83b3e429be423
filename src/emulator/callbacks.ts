/**
 * Callback delivery: POST `{job_id, status, predictions}` to the job's `callback_url`, retried
 * with exponential backoff on a non-2xx answer or a network error; dropped, duplicated or
 * delayed as the faults say; optionally signed the way Hume signs EVI webhooks.
 */
import { createHmac } from 'node:crypto';
import { request, type Dispatcher } from 'undici';
import type { EmulatorLogger, Faults, ResolvedOptions } from './options.js';
import type { Random } from './random.js';
import type { EmulatorStats } from './stats.js';
import type { Timers } from './timers.js';

export interface CallbackDeps {
  config: ResolvedOptions['callback'];
  dispatcher: Dispatcher;
  faults: () => Faults;
  random: Random;
  stats: EmulatorStats;
  timers: Timers;
  logger?: EmulatorLogger | undefined;
}

/** EVI scheme: hex HMAC-SHA256 of `body + "." + timestamp`, timestamp in Unix seconds. */
export function signCallback(key: string, body: string, timestamp: string): string {
  return createHmac('sha256', key).update(`${body}.${timestamp}`).digest('hex');
}

export function sendCallback(deps: CallbackDeps, url: string, payload: object): void {
  const faults = deps.faults();
  if (deps.random.chance(faults.callbackDropRate)) {
    deps.stats.callbacksDropped++;
    deps.logger?.info(`callback to ${url} dropped (fault)`);
    return;
  }
  const body = JSON.stringify(payload);
  const copies = deps.random.chance(faults.callbackDuplicateRate) ? 2 : 1;
  for (let i = 0; i < copies; i++) {
    deps.timers.track(deliver(deps, url, body, faults.callbackDelayMs), (err) =>
      deps.logger?.warn(`callback to ${url}: ${String(err)}`));
  }
}

async function deliver(deps: CallbackDeps, url: string, body: string, delayMs: number): Promise<void> {
  const { config, timers, stats } = deps;
  if (delayMs > 0) await timers.sleep(delayMs);
  let lastError = '';
  for (let attempt = 0; attempt <= config.retries; attempt++) {
    if (attempt > 0) await timers.sleep(config.backoffMs * 2 ** (attempt - 1));
    stats.callbackAttempts++;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (config.hmacKey) {
      const timestamp = String(Math.floor(Date.now() / 1000));
      headers['x-hume-ai-webhook-timestamp'] = timestamp;
      headers['x-hume-ai-webhook-signature'] = signCallback(config.hmacKey, body, timestamp);
    }
    try {
      const res = await request(url, {
        method: 'POST',
        headers,
        body,
        dispatcher: deps.dispatcher,
        signal: AbortSignal.any([timers.signal, AbortSignal.timeout(config.timeoutMs)]),
      });
      await res.body.dump();
      if (res.statusCode >= 200 && res.statusCode < 300) {
        stats.callbacksSent++;
        return;
      }
      lastError = `HTTP ${res.statusCode}`;
    } catch (err) {
      if (timers.signal.aborted) return;
      lastError = err instanceof Error ? err.message : String(err);
    }
  }
  stats.callbacksFailed++;
  deps.logger?.warn(`callback to ${url} failed after ${config.retries + 1} attempts: ${lastError}`);
}
