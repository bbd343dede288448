import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Child processes started through bin/cashew.js run the TypeScript sources (the same modules the
    // tests import), never a dist/ that may be stale. test/package/ tests the compiled package.
    env: { CASHEW_SOURCE: '1' },
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start brokers and child processes; two cores are shared, so keep files few at once.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
