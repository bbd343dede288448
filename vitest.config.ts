import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Child processes started through bin/cashew.js run the TypeScript sources (the same modules the
    // tests import), never a dist/ that may be stale. test/package/ tests the compiled package.
    env: { CASHEW_SOURCE: '1' },
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start brokers and child processes; two cores are shared, so keep files few at once.
    maxWorkers: 2,
    fileParallelism: true,
    projects: [
      {
        extends: true,
        test: {
          name: 'cashew',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/package/**'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        // npm pack, npm install, tsc and a vitest run of their own: alone, after the others, so that
        // they do not slow the process start-ups other tests time.
        extends: true,
        test: { name: 'package', include: ['test/package/**/*.test.ts'], sequence: { groupOrder: 1 } },
      },
    ],
  },
});
