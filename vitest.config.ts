import { defineConfig } from 'vitest/config';

/** The suites that run once per broker engine (test/support/broker.ts, CASHEW_TEST_MODE). */
const BOTH_MODES = ['test/integration/**/*.test.ts', 'test/interop/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start brokers and child processes; two cores are shared, so keep files few at once.
    maxWorkers: 2,
    fileParallelism: true,
    projects: [
      {
        extends: true,
        test: {
          // Everything once, with the embedded in-memory broker; test/cluster brings its own Redis.
          name: 'memory',
          include: ['test/**/*.test.ts'],
          env: { CASHEW_TEST_MODE: 'memory' },
        },
      },
      {
        extends: true,
        test: {
          // The same integration and interop suites on a Redis-backed broker (scale-out).
          name: 'redis',
          include: BOTH_MODES,
          env: { CASHEW_TEST_MODE: 'redis' },
          setupFiles: ['test/support/redis-mode.ts'],
        },
      },
    ],
  },
});
