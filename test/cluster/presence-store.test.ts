// The cluster's presence scripts (broker/presence/presence-scripts.ts) on a real redis-server, through
// two RedisPresenceStore instances standing for two nodes: cluster-wide counts, the reaping of a node
// that stopped beating, a reaped node registering again, Redis emptied, and the keys left behind.
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PRESENCE_KEYS } from '../../broker/presence/presence-scripts.ts';
import { RedisPresenceStore } from '../../broker/presence/redis-presence-store.ts';
import type { PresenceEvent } from '../../protocol/index.ts';
import { startTestRedis, type TestRedis } from './support/redis.ts';

const HEARTBEAT_MS = 100;
const logger = pino({ level: 'silent' });

let redis: TestRedis;
let admin: Redis;
const stores: RedisPresenceStore[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
  await admin.flushall();
});
afterAll(async () => {
  admin.disconnect();
  await redis.dispose();
});

async function node(
  brokerId: string,
  graceMs = 200,
  heartbeatMs = HEARTBEAT_MS,
): Promise<{ store: RedisPresenceStore; heard: PresenceEvent[] }> {
  const store = new RedisPresenceStore({
    redis: new Redis(redis.url, { maxRetriesPerRequest: null }),
    brokerId,
    heartbeatMs,
    graceMs,
    logger,
  });
  stores.push(store);
  const heard: PresenceEvent[] = [];
  await store.start((events) => heard.push(...events));
  return { store, heard };
}

describe('RedisPresenceStore', () => {
  it('counts across nodes: online on the first device anywhere, offline when the last one anywhere settles', async () => {
    const a = await node('a.1');
    const b = await node('b.1');
    expect(await a.store.connected('ann')).toMatchObject({ userId: 'ann', online: true, devices: 1 });
    expect(await b.store.connected('ann')).toBeUndefined();
    expect(await a.store.disconnected('ann')).toBeUndefined();
    const at = await b.store.disconnected('ann');
    expect(at).toEqual(expect.any(Number));
    expect(await b.store.settle('ann', (at ?? 0) - 1)).toBeUndefined(); // not this disconnect's
    expect(await b.store.settle('ann', at ?? 0)).toEqual({ userId: 'ann', online: false, devices: 0, at });
    expect(await a.store.settle('ann', at ?? 0)).toBeUndefined(); // once only
    expect(await admin.hlen(PRESENCE_KEYS.users)).toBe(0);
    expect(await admin.scard(PRESENCE_KEYS.online)).toBe(0);
    expect(await admin.zcard(PRESENCE_KEYS.pending)).toBe(0);
  });

  it('a node that stops beating is reaped: its users with no other device go offline, others stay', async () => {
    const a = await node('a.2', 200, 60_000); // beats once a minute: as good as dead within this test
    const b = await node('b.2');
    await a.store.connected('kim');
    await a.store.connected('lou');
    await b.store.connected('lou');
    await admin.zadd(PRESENCE_KEYS.nodes, 0, 'a.2'); // a's last heartbeat is long gone
    await expect.poll(() => b.heard.length, { timeout: 5000, interval: 20 }).toBeGreaterThanOrEqual(1);
    expect(b.heard).toEqual([{ userId: 'kim', online: false, devices: 0, at: 0 }]);
    expect(await admin.hget(PRESENCE_KEYS.users, 'lou')).toBe('1');
    expect(await admin.exists('cashew:presence:node:a.2')).toBe(0);
    // a was alive after all: its next change finds it was reaped, and it registers again with all
    // its devices; the users the cluster had taken offline are online again
    expect(await a.store.connected('pia')).toBeUndefined();
    expect(a.heard.map((event) => [event.userId, event.online, event.devices])).toEqual([
      ['kim', true, 1],
      ['pia', true, 1],
    ]);
    expect(await admin.hget(PRESENCE_KEYS.users, 'lou')).toBe('2');
  });

  it('a grace period whose node died is settled by another node', async () => {
    const a = await node('a.3', 50);
    const b = await node('b.3', 50);
    await a.store.connected('max');
    await a.store.disconnected('max'); // a "dies" before it settles
    await a.store.close();
    stores.splice(stores.indexOf(a.store), 1);
    await expect
      .poll(() => b.heard.map((event) => event.userId), { timeout: 5000, interval: 20 })
      .toEqual(['max']);
    expect(b.heard[0]).toMatchObject({ online: false, devices: 0 });
  });

  it('Redis emptied (restarted without persistence): each node registers again with its devices', async () => {
    const a = await node('a.4');
    await a.store.connected('nia');
    await admin.flushall();
    await expect.poll(() => a.heard.length, { timeout: 5000, interval: 20 }).toBeGreaterThanOrEqual(1);
    expect(a.heard[0]).toMatchObject({ userId: 'nia', online: true, devices: 1 });
    expect(await admin.hget(PRESENCE_KEYS.users, 'nia')).toBe('1');
    expect(a.store.localUsers).toBe(1);
    await a.store.disconnected('nia');
    expect(a.store.localUsers).toBe(0);
  });

  it('a node that leaves takes its devices off the counts and its entry out', async () => {
    const a = await node('a.5');
    await a.store.connected('ola');
    await a.store.close();
    stores.splice(stores.indexOf(a.store), 1);
    expect(await admin.hlen(PRESENCE_KEYS.users)).toBe(0);
    expect(await admin.zscore(PRESENCE_KEYS.nodes, 'a.5')).toBeNull();
    expect(await admin.exists('cashew:presence:node:a.5')).toBe(0);
    expect(await admin.zscore(PRESENCE_KEYS.pending, 'ola')).not.toBeNull(); // settled by another node
  });
});
