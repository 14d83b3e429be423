import { defineConfig } from 'vitest/config';

// Two projects: `temporal` tests share one real Temporal dev server started by the global setup;
// everything else (emulator, client, receiver, pure units) runs without it.
export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Polls wait on real servers on a 2-core machine: give them room.
    expect: { poll: { timeout: 20_000, interval: 100 } },
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/temporal/**'] },
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
    ],
  },
});
