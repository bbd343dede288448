// Presence as the broker starts it: in one process the counts are the node's own; with Redis they are
// the cluster's, on a Redis connection of its own (closed with the store).
import type { Cluster } from '../cluster/index.ts';
import { connectRedis, redisReady } from '../cluster/redis-connection.ts';
import type { Logger } from '../log/logger.ts';
import type { BrokerOptions } from '../options.ts';
import { MemoryPresenceStore, type PresenceStore } from './presence-store.ts';
import { PresenceTracker } from './presence-tracker.ts';
import { RedisPresenceStore } from './redis-presence-store.ts';

export async function startPresence(
  options: BrokerOptions,
  logger: Logger,
  cluster: Cluster | undefined,
  signal?: AbortSignal,
): Promise<PresenceTracker> {
  const log = logger.child({ component: 'presence' });
  let store: PresenceStore;
  if (options.redisUrl === undefined || cluster === undefined) store = new MemoryPresenceStore();
  else {
    const redis = connectRedis(options.redisUrl, 'presence', cluster.nodeId, log);
    try {
      await redisReady(redis, options.redisUrl, { signal });
    } catch (error) {
      redis.disconnect();
      throw error;
    }
    store = new RedisPresenceStore({
      redis,
      brokerId: cluster.brokerId,
      heartbeatMs: options.clusterHeartbeatMs,
      graceMs: options.presenceGraceMs,
      logger: log,
    });
  }
  return new PresenceTracker({ store, graceMs: options.presenceGraceMs, logger: log });
}
