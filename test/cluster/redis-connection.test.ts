// A cluster Redis connection never turns a failed command that nobody awaits into an unhandled
// rejection (Node ends the process on one): aedes-persistence-redis sends some without awaiting.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectRedis, redisReady } from '../../broker/cluster/redis-connection.ts';
import { createLogger } from '../../broker/index.ts';
import { startTestRedis, type TestRedis } from './support/redis.ts';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis?.dispose();
});

it('handles the rejection of a command sent after QUIT, and still rejects it for whoever awaits it', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  process.on('unhandledRejection', onUnhandled);
  try {
    const connection = connectRedis(redis.url, 'persistence', 'test', createLogger('fatal'));
    await redisReady(connection, redis.url);
    const ended = new Promise<void>((resolve) => connection.once('end', () => resolve()));
    void connection.quit(); // its own reply may lose the race with the close: not awaited either
    void connection.lrem('will', 0, 'never-awaited'); // as aedes-persistence-redis' delWill does
    const awaited = connection.get('awaited');
    await expect(awaited).rejects.toThrow('Connection is closed');
    await ended;
    // Unhandled rejections are reported after the microtask queue drains: give it a macrotask.
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled).toEqual([]);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
