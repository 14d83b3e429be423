/**
 * `temporal-hume/testing`: for tests — the Hume-compatible server and a Temporal dev server started
 * on free ports.
 */
export * from './emulator/index.js';
export { startDevServer, resolveTemporalCli, type DevServer, type DevServerOptions } from './devserver/index.js';
