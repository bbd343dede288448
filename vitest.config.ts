import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start brokers and child processes; two cores are shared, so keep files few at once.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
