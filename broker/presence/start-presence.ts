// Presence as the broker starts it: in one process the counts are the node's own; with Redis they are
// the cluster's, on a Redis connection of its own (closed with the store).
import type { Cluster } from '../cluster/index.ts';
import { connectRedis, redisReady } from '../cluster/redis-connection.ts';
import type { Logger } from '../log/logger.ts';
import type { BrokerOptions } from '../options.ts';
import { MemoryPresenceStore } from './presence-store.ts';
import { PresenceTracker } from './presence-tracker.ts';
import { RedisPresenceStore } from './redis-presence-store.ts';

export async function startPresence(
  options: BrokerOptions,
  logger: Logger,
  cluster: Cluster | undefined,
  signal?: AbortSignal,
  /** aedes was given an emitter of its own (scale-out by the embedder): other brokers' handlers may listen. */
  sharedEmitter = false,
): Promise<PresenceTracker> {
  const log = logger.child({ component: 'presence' });
  const graceMs = options.presenceGraceMs;
  // One process: only handlers connected here can listen (the tracker publishes once one granted
  // presence has connected). Redis, or an emitter shared with other brokers: handlers anywhere may.
  if (options.redisUrl === undefined || cluster === undefined)
    return new PresenceTracker({
      store: new MemoryPresenceStore(),
      graceMs,
      logger: log,
      listeners: sharedEmitter ? 'anywhere' : 'granted-here',
    });
  const redis = connectRedis(options.redisUrl, 'presence', cluster.nodeId, log);
  try {
    await redisReady(redis, options.redisUrl, { signal });
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  const store = new RedisPresenceStore({
    redis,
    brokerId: cluster.brokerId,
    heartbeatMs: options.clusterHeartbeatMs,
    graceMs,
    logger: log,
  });
  return new PresenceTracker({ store, graceMs, logger: log, listeners: 'anywhere' });
}
