/**
 * A cheap call to Hume before a run starts, when this process has the API key: a bad key or an
 * unreachable base URL is then one line now, not a failed run minutes later. The worker, which
 * really calls Hume, may have other settings; without a key here there is nothing to check.
 */
import type { HumeEnv } from '../config.js';
import { HumeClient } from '../hume/client.js';
import { findNetworkError, HumeError } from '../hume/errors.js';
import { CliError, EXIT } from './errors.js';

const PREFLIGHT_TIMEOUT_MS = 5_000;

export async function preflightHume(config: Pick<HumeEnv, 'HUME_API_KEY' | 'HUME_BASE_URL'>): Promise<void> {
  if (!config.HUME_API_KEY) return;
  const baseUrl = config.HUME_BASE_URL;
  const hume = new HumeClient({ apiKey: config.HUME_API_KEY, baseUrl, timeoutMs: PREFLIGHT_TIMEOUT_MS });
  try {
    await hume.listJobs({ limit: 1 });
  } catch (err) {
    if (!(err instanceof HumeError)) throw err;
    if (err.status === 401 || err.status === 403) {
      throw new CliError(`Hume rejected the API key (${err.status}) at ${baseUrl}: check HUME_API_KEY`, EXIT.failed, { cause: err });
    }
    if (err.code === 'HUME_NETWORK' || err.code === 'HUME_TIMEOUT') {
      throw new CliError(`cannot reach Hume at ${baseUrl} (${findNetworkError(err)?.code ?? err.message})`, EXIT.failed, { cause: err });
    }
    throw err;
  }
}
