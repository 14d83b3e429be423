export { resolveTemporalCli, defaultCacheDir, TemporalCliNotFoundError, TEMPORAL_CLI_VERSION } from './cli-path.js';
export type { ResolveTemporalCliOptions } from './cli-path.js';
export { startDevServer, freePort } from './server.js';
export type { DevServer, DevServerOptions } from './server.js';
export {
  resolveTemporalTestServer,
  defaultTestServerCacheDir,
  TemporalTestServerNotFoundError,
  TEMPORAL_TEST_SERVER_VERSION,
} from './test-server.js';
export type { ResolveTemporalTestServerOptions } from './test-server.js';
