// Scale-out on Redis: with REDIS_URL set, aedes runs on mqemitter-redis (every publish reaches every
// node) and aedes-persistence-redis (sessions, subscriptions, queued QoS 1/2 messages, retained
// messages and wills shared by all nodes). What aedes does across nodes by itself, and what is added
// here, is in docs/scaling.md:
// - client-id takeover: aedes announces each new client on `$SYS/<brokerId>/new/clients` and the
//   node holding the same id closes its connection (logged here);
// - wills of dead nodes: aedes publishes them after 3 missed heartbeats, checked every 4 heartbeats;
//   after a Redis outage the heartbeats of live nodes are re-armed so their clients' wills are not
//   published while their heartbeats had no way to arrive;
// - handler pools: one member in the whole cluster serves each command (pool-coordinator.ts);
// - token expiry: the timer lives with the connection, on whichever node it is;
// - the same behaviour as one node where the Redis modules differ from the in-memory ones: a
//   SUBSCRIBE with several filters (redis-persistence.ts), every queued message at a reconnect
//   (redis-persistence.ts), filters with Redis pattern characters (redis-emitter.ts).
import type { Aedes, AedesOptions, AedesPublishPacket } from 'aedes';
import type { Redis } from 'ioredis';
import { hasLocalClient, markBrokersAlive, onBrokerError } from '../aedes/broker-internals.ts';
import type { Logger } from '../log/logger.ts';
import type { BrokerOptions } from '../options.ts';
import { brokerIdOf, clusterNodeId, nodeIdOf } from './node-id.ts';
import { ClusterPoolCoordinator } from '../pools/pool-coordinator.ts';
import {
  closeRedis,
  connectRedis,
  redactedUrl,
  redisReady,
  redisTrouble,
  REDIS_CLOSE_TIMEOUT_MS,
  REDIS_STALL_MS,
  waitingCommands,
} from './redis-connection.ts';
import { redisEmitter } from './redis-emitter.ts';
import { redisPersistence } from './redis-persistence.ts';
import { capSessionQueues } from './redis-queue-cap.ts';
import { RedisAwaySessions } from './redis-away-sessions.ts';
import { RedisUserConnections } from './redis-user-connections.ts';
import type { SessionRemoval } from '../aedes/session-expiry.ts';
import { auditQueueDrops } from '../aedes/persistence/session-queues.ts';
import { RedisRetainedQuota } from './redis-retained-limits.ts';
import type { RetainedQuota } from '../limits/retained-quota.ts';

/** How often a stop waiting on Redis checks that Redis is still there to wait for. */
const STOP_CHECK_MS = 250;
/** Brokers heard within this long before an outage are taken as alive when Redis is back. */
const REMEMBER_BROKERS_MS = 24 * 60 * 60_000;
const noop = (): void => {};

export interface Cluster {
  /** The stable node id (NODE_ID or the host name). */
  readonly nodeId: string;
  /** The aedes broker id of this run: `<nodeId>.<suffix>`. */
  readonly brokerId: string;
  /** What aedes needs to run on Redis: id, mq, persistence, heartbeatInterval. */
  readonly aedesOptions: Partial<AedesOptions>;
  /** The persistence (also in aedesOptions), typed for session expiry. */
  readonly persistence: SessionRemoval;
  /** When each persistent session's client left, shared by the nodes (session expiry). */
  readonly awaySessions: RedisAwaySessions;
  /** Each user's connections on every node (MAX_CONNECTIONS_PER_USER over the cluster). */
  readonly userConnections: RedisUserConnections;
  readonly pools: ClusterPoolCoordinator;
  /** Retained messages per partition, counted in Redis for every node (redis-retained-limits.ts). */
  readonly retained: RetainedQuota;
  /** Wires the cluster's logs and recovery to a started aedes. */
  attach(aedes: Aedes): void;
  /**
   * Why Redis cannot serve a CONNECT now (the persistence or publish connection down, or its commands
   * unanswered for REDIS_STALL_MS), or undefined. A
   * CONNECT is then refused at once (ERR_REDIS_UNAVAILABLE, CONNACK 3) instead of leaving its
   * commands queued until Redis is back and the device waiting for a CONNACK that does not come.
   */
  unavailable(): string | undefined;
  /** Commands of the cluster's connections waiting for Redis (`cashew_redis_commands_waiting`). */
  waitingCommands(): number;
  /**
   * Waits for `work` (a step of a stop that waits on Redis) while Redis answers: resolves true when it
   * is done, false (not waiting any longer) when Redis is found away (any of the cluster's connections
   * down, or its commands unanswered for REDIS_CLOSE_TIMEOUT_MS), checked every STOP_CHECK_MS.
   */
  whileAnswering(work: Promise<unknown>): Promise<boolean>;
  /** Call before aedes.close(): tells the other nodes this one's handler pools are gone. */
  leave(): Promise<void>;
  /** Call after aedes.close(): closes the persistence connection (and the emitter's, if still open). */
  close(): Promise<void>;
}

/** The will bound for a heartbeat interval: 3 missed heartbeats, then the next 4-heartbeat check. */
export function willBoundMs(heartbeatMs: number): number {
  return 7 * heartbeatMs;
}

/** Waits for Redis (REDIS_START_TIMEOUT_MS, or until `signal` aborts) before anything else starts. */
export async function startCluster(
  options: BrokerOptions,
  logger: Logger,
  signal?: AbortSignal,
): Promise<Cluster> {
  const url = options.redisUrl;
  if (url === undefined) throw new TypeError('startCluster needs options.redisUrl');
  const nodeId = clusterNodeId(options.nodeId);
  const brokerId = brokerIdOf(nodeId);
  const heartbeatMs = options.clusterHeartbeatMs;
  const log = logger.child({ node: nodeId, brokerId });
  let aedes: Aedes | undefined;
  /** When each broker was last heard (our own record: aedes forgets brokers it has not heard for a while). */
  const heardAt = new Map<string, number>();

  function rearmHeartbeats(): void {
    if (aedes === undefined) return;
    const now = Date.now();
    for (const [id, at] of heardAt) if (now - at >= REMEMBER_BROKERS_MS) heardAt.delete(id);
    markBrokersAlive(aedes, heardAt.keys(), now);
  }

  const persistenceConnection = connectRedis(url, 'persistence', nodeId, log, {
    onRecovered: rearmHeartbeats,
  });
  const publishConnection = connectRedis(url, 'publish', nodeId, log);
  const subscribeConnection = connectRedis(url, 'subscribe', nodeId, log, { onRecovered: rearmHeartbeats });
  const connections = [persistenceConnection, publishConnection, subscribeConnection];
  try {
    await Promise.all(connections.map((connection) => redisReady(connection, url, { signal })));
  } catch (error) {
    for (const connection of connections) connection.disconnect();
    throw error;
  }
  const awaySessions = new RedisAwaySessions(persistenceConnection, nodeId);
  // Before any client connects here: sessions this node held when it last stopped are away from now.
  const reclaimed = await awaySessions.reclaim(Date.now());
  if (reclaimed > 0) log.info({ sessions: reclaimed }, 'sessions held at the last stop are away from now');
  const mq = redisEmitter(publishConnection, subscribeConnection, log);
  const persistence = redisPersistence(persistenceConnection, log);
  const { queue } = options.limits.sessions;
  capSessionQueues(persistence, persistenceConnection, queue, auditQueueDrops(log, queue));
  const pools = new ClusterPoolCoordinator(brokerId, heartbeatMs, log);
  log.info(
    { redis: redactedUrl(url), heartbeatMs, willBoundMs: willBoundMs(heartbeatMs) },
    'cluster mode: sessions and messages shared through Redis',
  );

  function attach(started: Aedes): void {
    aedes = started;
    // aedes emits 'error' when a periodic will check fails (Redis away); unhandled, it would kill the process.
    onBrokerError(started, (error) =>
      log.warn({ err: error.message }, 'cluster maintenance failed; retried'),
    );
    started.subscribe(
      '$SYS/+/heartbeat',
      (packet: AedesPublishPacket, done: () => void) => {
        heardAt.set(String(packet.payload), Date.now());
        done();
      },
      noop,
    );
    started.subscribe(
      '$SYS/+/new/clients',
      (packet: AedesPublishPacket, done: () => void) => {
        const takenBy = packet.topic.split('/')[1] ?? '';
        const clientId = String(packet.payload);
        if (takenBy !== brokerId && hasLocalClient(started, clientId)) {
          log.info(
            { action: 'takeover', clientId, byNode: nodeIdOf(takenBy), byBroker: takenBy },
            'client id connected on another node; closing it here',
          );
        }
        done();
      },
      noop,
    );
    pools.attach(started);
  }

  const userConnections = new RedisUserConnections(persistenceConnection, brokerId, heartbeatMs, log);

  function troubleOf(among: readonly Redis[], stallMs: number): string | undefined {
    const now = Date.now();
    for (const connection of among) {
      const trouble = redisTrouble(connection, now, stallMs);
      if (trouble !== undefined) return trouble;
    }
    return undefined;
  }

  // What a CONNECT waits on: the session (persistence) and its announcement (publish). Not the
  // subscribe connection: a node that is deaf for a moment (Redis cut it for its pub/sub backlog, and
  // it reconnects) can still take clients, as it keeps those it has.
  const connectPath = [persistenceConnection, publishConnection];
  const unavailable = (): string | undefined => troubleOf(connectPath, REDIS_STALL_MS);

  let gaveUp = false;
  async function whileAnswering(work: Promise<unknown>): Promise<boolean> {
    const done = work.then(
      () => true,
      () => true,
    );
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const checked = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), STOP_CHECK_MS);
      });
      const finished = await Promise.race([done, checked]);
      clearTimeout(timer);
      if (finished) return true;
      // A stop waits on Redis no longer than it would for a QUIT: silent that long is away.
      const trouble = troubleOf(connections, REDIS_CLOSE_TIMEOUT_MS);
      if (trouble !== undefined) {
        if (!gaveUp) log.warn({ reason: trouble }, 'stopping without waiting for Redis');
        gaveUp = true;
        return false;
      }
    }
  }

  async function close(): Promise<void> {
    await userConnections.close();
    // aedes.close() quits the emitter's two connections and leaves the persistence one open. After a
    // stop that stopped waiting for Redis, whatever is open is dropped here, without waiting on a QUIT.
    const open = connections.filter((connection) => connection.status !== 'end');
    if (gaveUp) for (const connection of open) connection.disconnect();
    else await Promise.all(open.map((connection) => closeRedis(connection)));
  }

  return {
    nodeId,
    brokerId,
    aedesOptions: { id: brokerId, mq, persistence, heartbeatInterval: heartbeatMs },
    persistence,
    awaySessions,
    userConnections,
    pools,
    retained: new RedisRetainedQuota(persistenceConnection, options.limits.retained),
    attach,
    unavailable,
    waitingCommands: () => connections.reduce((sum, connection) => sum + waitingCommands(connection), 0),
    whileAnswering,
    leave: () => whileAnswering(pools.close()).then(() => undefined),
    close,
  };
}
