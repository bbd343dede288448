// vitest setup file of the `redis` project: one private redis-server per test file, its URL in
// REDIS_URL for the in-process test brokers (test/support/broker.ts) and for broker child
// processes, which inherit the environment. One per file, not one per run: mqemitter-redis'
// pub/sub channels are server-wide, so brokers of two files on one Redis would form one cluster.
import { afterAll, beforeAll } from 'vitest';
import { startTestRedis, type TestRedis } from '../cluster/support/redis.ts';

let redis: TestRedis | undefined;

beforeAll(async () => {
  redis = await startTestRedis();
  process.env.REDIS_URL = redis.url;
});

afterAll(async () => {
  delete process.env.REDIS_URL;
  await redis?.dispose();
});
