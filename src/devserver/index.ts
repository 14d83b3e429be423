export { resolveTemporalCli, defaultCacheDir, TemporalCliNotFoundError, TEMPORAL_CLI_VERSION } from './cli-path.js';
export type { ResolveTemporalCliOptions } from './cli-path.js';
export { startDevServer, freePort } from './server.js';
export type { DevServer, DevServerOptions } from './server.js';
