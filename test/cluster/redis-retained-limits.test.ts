// The Redis index of retained messages per partition (broker/cluster/redis-retained-limits.ts) on a
// real redis-server: the keys docs/scaling.md documents, check-and-reserve, replacement, deletion, and
// the index following aedes-persistence-redis' storeRetained.
import aedesPersistenceRedis from 'aedes-persistence-redis';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  indexRetained,
  RedisRetainedQuota,
  RETAINED_BYTES_PREFIX,
  RETAINED_INDEX_PREFIX,
} from '../../broker/cluster/redis-retained-limits.ts';
import { createLogger } from '../../broker/index.ts';
import { retainedBytesOf } from '../../broker/limits/retained-quota.ts';
import { startTestRedis, type TestRedis } from './support/redis.ts';

const LIMITS = { maxPerPartition: 2, maxBytesPerPartition: 40 };

let redis: TestRedis;
let conn: Redis;

beforeAll(async () => {
  redis = await startTestRedis();
  conn = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await conn.connect();
});
afterAll(async () => {
  await conn.quit();
  await redis.dispose();
});
beforeEach(async () => {
  await conn.flushall();
});

const room = (topic: string, payload: string) => ({ topic, bytes: retainedBytesOf(topic, payload) });

async function indexOf(partition: string): Promise<{ topics: Record<string, string>; bytes: string | null }> {
  return {
    topics: await conn.hgetall(RETAINED_INDEX_PREFIX + partition),
    bytes: await conn.get(RETAINED_BYTES_PREFIX + partition),
  };
}

describe('RedisRetainedQuota', () => {
  it('reserves new topics up to the count limit in the documented keys; a replacement passes, a release frees', async () => {
    const quota = new RedisRetainedQuota(conn, LIMITS);
    expect(await quota.reserve(room('u/a', '1'))).toBeUndefined();
    expect(await quota.reserve(room('u/b', '2'))).toBeUndefined();
    expect(await quota.reserve(room('u/c', '3'))).toMatchObject({ code: 'ERR_RETAINED_LIMIT' });
    expect(await quota.reserve(room('u/a', 'again'))).toBeUndefined();
    expect(await quota.reserve(room('v/c', '3'))).toBeUndefined();
    expect(await indexOf('u')).toEqual({ topics: { 'u/a': '8', 'u/b': '4' }, bytes: '12' });
    await quota.release('u/a');
    await quota.release('u/b');
    expect(await indexOf('u')).toEqual({ topics: {}, bytes: null });
    expect(await conn.exists(RETAINED_INDEX_PREFIX + 'u', RETAINED_BYTES_PREFIX + 'u')).toBe(0);
  });

  it('refuses a message, a replacement included, that would take the partition over its bytes', async () => {
    const quota = new RedisRetainedQuota(conn, LIMITS);
    expect(await quota.reserve(room('u/a', 'x'.repeat(30)))).toBeUndefined();
    expect((await quota.reserve(room('u/b', 'y'.repeat(10))))?.reason).toMatch(
      /would hold 46 retained bytes, over MAX_RETAINED_BYTES_PER_PARTITION 40/,
    );
    expect(await quota.reserve(room('u/a', 'x'.repeat(38)))).toMatchObject({ code: 'ERR_RETAINED_LIMIT' });
    expect(await indexOf('u')).toEqual({ topics: { 'u/a': '33' }, bytes: '33' });
  });

  it('gives the last slot once to reservations racing from two connections (two nodes)', async () => {
    const other = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await other.connect();
    try {
      const here = new RedisRetainedQuota(conn, LIMITS);
      const there = new RedisRetainedQuota(other, LIMITS);
      await here.reserve(room('u/a', '1'));
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? here : there).reserve(room(`u/n${i}`, '1'))),
      );
      expect(outcomes.filter((outcome) => outcome === undefined)).toHaveLength(1);
      expect(Object.keys((await indexOf('u')).topics)).toHaveLength(2);
    } finally {
      await other.quit();
    }
  });
});

describe('indexRetained', () => {
  it('keeps the index in step with what aedes-persistence-redis stores and deletes', async () => {
    const persistence = aedesPersistenceRedis({ conn });
    indexRetained(persistence, conn, createLogger('warn'));
    const packet = (topic: string, payload: string) => ({
      cmd: 'publish',
      topic,
      payload: Buffer.from(payload),
      qos: 0,
      retain: true,
    });
    await persistence.storeRetained(packet('u/a', 'hello'));
    await persistence.storeRetained(packet('u/b', 'x'));
    expect(await conn.hexists('retained', 'u/a')).toBe(1);
    expect(await indexOf('u')).toEqual({ topics: { 'u/a': '8', 'u/b': '4' }, bytes: '12' });
    await persistence.storeRetained(packet('u/a', ''));
    expect(await conn.hexists('retained', 'u/a')).toBe(0);
    expect(await indexOf('u')).toEqual({ topics: { 'u/b': '4' }, bytes: '4' });
  });
});
