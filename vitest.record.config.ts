import { defineConfig } from 'vitest/config';

// `npm run record:histories`: runs representative workflows and saves their histories for the
// replay tests. Not part of `npm test`.
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['scripts/record-histories.ts'],
    globalSetup: ['test/setup/temporal-server.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
});
