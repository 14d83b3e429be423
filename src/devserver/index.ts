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
export {
  resolveTemporalServer,
  defaultTemporalServerCacheDir,
  TemporalServerNotFoundError,
  TEMPORAL_SERVER_VERSION,
} from './temporal-server-path.js';
export type { ResolveTemporalServerOptions, TemporalServerBinaries } from './temporal-server-path.js';
export { startPostgres, PostgresError } from './postgres.js';
export type { Postgres, PostgresOptions } from './postgres.js';
export { startTemporalCluster, TemporalClusterError, INDEXED_VALUE_TYPES } from './temporal-cluster.js';
export type { TemporalCluster, TemporalClusterOptions, SearchAttributeType } from './temporal-cluster.js';
