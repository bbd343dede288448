export { startCluster, willBoundMs } from './cluster.ts';
export type { Cluster } from './cluster.ts';
export { clusterNodeId, brokerIdOf, nodeIdOf } from './node-id.ts';
export {
  ClusterPoolCoordinator,
  chooseNode,
  messageHash,
  POOL_STATE_TTL_HEARTBEATS,
} from '../pools/pool-coordinator.ts';
export {
  connectRedis,
  redisReady,
  redactedUrl,
  REDIS_MAX_RETRY_DELAY_MS,
  REDIS_START_TIMEOUT_MS,
} from './redis-connection.ts';
export type { RedisRole, RedisConnectionEvents } from './redis-connection.ts';
