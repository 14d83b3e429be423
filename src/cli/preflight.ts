/**
 * A cheap call to Hume before a run starts, when this process has the API key: a bad key or an
 * unreachable base URL is then one line now, not a failed run minutes later. The worker, which
 * really calls Hume, may have other settings; without a key here there is nothing to check.
 * The check itself is `probeHume` (src/hume/probe.ts), shared with the worker's start.
 */
import type { HumeEnv } from '../config.js';
import { type ProbeOptions, probeHume } from '../hume/probe.js';
import { CliError, EXIT } from './errors.js';

export async function preflightHume(config: Pick<HumeEnv, 'HUME_API_KEY' | 'HUME_BASE_URL'>, options?: ProbeOptions): Promise<void> {
  if (!config.HUME_API_KEY) return;
  const result = await probeHume({ apiKey: config.HUME_API_KEY, baseUrl: config.HUME_BASE_URL }, options);
  if (!result.ok) throw new CliError(result.line, EXIT.failed, { cause: result.error });
}
