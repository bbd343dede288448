import { configDefaults, defineConfig } from 'vitest/config';

/** The suites that run once per broker engine (test/support/broker.ts, CASHEW_TEST_MODE). */
const BOTH_MODES = ['test/integration/**/*.test.ts', 'test/interop/**/*.test.ts'];

/**
 * Child processes started through bin/cashew.js run the TypeScript sources (the same modules the
 * tests import), never a dist/ that may be stale. test/package/ tests the compiled package.
 */
const FROM_SOURCES = { CASHEW_SOURCE: '1' };

export default defineConfig({
  test: {
    env: FROM_SOURCES,
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
          exclude: [...configDefaults.exclude, 'test/package/**'],
          env: { ...FROM_SOURCES, CASHEW_TEST_MODE: 'memory' },
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          // The same integration and interop suites on a Redis-backed broker (scale-out).
          name: 'redis',
          include: BOTH_MODES,
          env: { ...FROM_SOURCES, CASHEW_TEST_MODE: 'redis' },
          setupFiles: ['test/support/redis-mode.ts'],
          // Known flake, not understood yet: in 1 of 2 clean-clone runs, two Redis-mode tests (a session
          // reconnect's CONNACK, a SUBSCRIBE's SUBACK) waited past their timeouts while other files ran;
          // alone they pass every time. One retry, reported by vitest, until the cause is found.
          retry: 1,
          sequence: { groupOrder: 0 },
        },
      },
      {
        // npm pack, npm install, tsc and a vitest run of their own: alone, after the others, so that
        // they do not slow the process start-ups other tests time.
        extends: true,
        test: {
          name: 'package',
          include: ['test/package/**/*.test.ts'],
          env: FROM_SOURCES,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
