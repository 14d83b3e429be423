import { defineConfig } from 'vitest/config';

// Four projects: `temporal` tests share one real Temporal dev server started by the global setup;
// `cluster` tests start the full Temporal server on PostgreSQL themselves; `ui` tests start a dev
// server with its Web UI and read it in headless Chromium; everything else (emulator, client,
// receiver, pure units) runs without any.
export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The pinned AWS SDK supports Node 20; its notice about releases after January 2027 is noise here.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    // Polls wait on real servers on a 2-core machine: give them room.
    expect: { poll: { timeout: 20_000, interval: 100 } },
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/temporal/**', 'test/cluster/**', 'test/ui/**'] },
      },
      {
        extends: true,
        test: {
          name: 'temporal',
          include: ['test/temporal/**/*.test.ts'],
          globalSetup: ['test/setup/temporal-server.ts'],
          testTimeout: 180_000,
        },
      },
      {
        extends: true,
        // The full Temporal server on PostgreSQL, each file its own cluster (the first run may build the server).
        test: { name: 'cluster', include: ['test/cluster/**/*.test.ts'], testTimeout: 600_000, hookTimeout: 600_000 },
      },
      {
        extends: true,
        // Each file its own dev server with the Web UI; a SPA on a busy machine needs room.
        test: { name: 'ui', include: ['test/ui/**/*.test.ts'], testTimeout: 180_000 },
      },
    ],
  },
});
