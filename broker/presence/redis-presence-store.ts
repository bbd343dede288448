// Presence across a cluster (REDIS_URL): each node counts its users' devices in a hash of its own and
// in the cluster-wide counts, in one atomic script per change (presence-scripts.ts), so that the node
// whose change takes a user's cluster-wide count from 0 to 1 announces online, and the one that takes
// it to 0 settles the offline after the grace period. Every heartbeat (CLUSTER_HEARTBEAT_MS) each node
// refreshes its own entry, reaps nodes not heard from for 3 heartbeats (a node killed: its users with
// no device elsewhere go offline), and settles grace periods whose node died before it could. So a
// user whose devices were all on a dead node is announced offline within 4 heartbeats of its death
// (docs/operations.md). A node that finds itself reaped (cut off from Redis), or Redis emptied,
// registers again with the devices it holds. Held here: one count per user with a device on this node.
import type { Redis } from 'ioredis';
import { CashewError, withTimeout, type PresenceEvent } from '../../protocol/index.ts';
import type { Logger } from '../log/logger.ts';
import type { PresenceStore } from './presence-store.ts';
import {
  CONNECTED_SCRIPT,
  DISCONNECTED_SCRIPT,
  HEARTBEAT_SCRIPT,
  JOIN_SCRIPT,
  LEAVE_SCRIPT,
  nodeKey,
  PRESENCE_KEY_PREFIX,
  PRESENCE_KEYS as K,
  SETTLE_SCRIPT,
} from './presence-scripts.ts';
import { closeRedis, redisAnswers } from '../cluster/redis-connection.ts';

/** A node not heard from for this many heartbeats is dead (as aedes takes it for wills). */
export const PRESENCE_DEAD_AFTER_HEARTBEATS = 3;

/** How long a stopping node waits for Redis to take its leave before it quits anyway. */
const LEAVE_TIMEOUT_MS = 2000;

/** The longest after a node's death before its users with no device elsewhere are announced offline. */
export function presenceBoundMs(heartbeatMs: number): number {
  return (PRESENCE_DEAD_AFTER_HEARTBEATS + 1) * heartbeatMs;
}

export interface RedisPresenceOptions {
  readonly redis: Redis;
  readonly brokerId: string;
  readonly heartbeatMs: number;
  readonly graceMs: number;
  readonly logger: Logger;
}

function numbersOf(reply: unknown): number[] {
  return Array.isArray(reply) ? reply.map((item) => Number(item)) : [];
}

function stringsOf(reply: unknown): string[] {
  return Array.isArray(reply) ? reply.map((item) => String(item)) : [];
}

export class RedisPresenceStore implements PresenceStore {
  readonly #redis: Redis;
  readonly #self: string;
  readonly #nodeKey: string;
  readonly #heartbeatMs: number;
  readonly #graceMs: number;
  readonly #logger: Logger;
  /** Devices connected on this node, per user (to register again after being reaped). */
  readonly #local = new Map<string, number>();
  #announce: (events: readonly PresenceEvent[]) => void = () => undefined;
  #timer: NodeJS.Timeout | undefined;
  #beating = false;

  constructor(options: RedisPresenceOptions) {
    this.#redis = options.redis;
    this.#self = options.brokerId;
    this.#nodeKey = nodeKey(options.brokerId);
    this.#heartbeatMs = options.heartbeatMs;
    this.#graceMs = options.graceMs;
    this.#logger = options.logger;
  }

  async connected(userId: string): Promise<PresenceEvent | undefined> {
    this.#local.set(userId, (this.#local.get(userId) ?? 0) + 1);
    const [total = 0, at = -1] = numbersOf(
      await this.#redis.eval(
        CONNECTED_SCRIPT,
        5,
        K.nodes,
        this.#nodeKey,
        K.users,
        K.online,
        K.pending,
        this.#self,
        userId,
      ),
    );
    if (total === -2) return this.#rejoin();
    return at === -1 ? undefined : { userId, online: true, devices: total, at };
  }

  async disconnected(userId: string): Promise<number | undefined> {
    const left = (this.#local.get(userId) ?? 0) - 1;
    if (left > 0) this.#local.set(userId, left);
    else this.#local.delete(userId);
    const [total = 0, at = -1] = numbersOf(
      await this.#redis.eval(
        DISCONNECTED_SCRIPT,
        4,
        K.nodes,
        this.#nodeKey,
        K.users,
        K.pending,
        this.#self,
        userId,
      ),
    );
    if (total === -2) return this.#rejoin();
    return at === -1 ? undefined : at;
  }

  async settle(userId: string, at: number): Promise<PresenceEvent | undefined> {
    const offline = await this.#redis.eval(SETTLE_SCRIPT, 3, K.users, K.online, K.pending, userId, at);
    return Number(offline) === 1 ? { userId, online: false, devices: 0, at } : undefined;
  }

  async start(announce: (events: readonly PresenceEvent[]) => void): Promise<void> {
    this.#announce = announce;
    await this.#join();
    this.#timer = setInterval(() => void this.#beat(), this.#heartbeatMs);
    this.#timer.unref();
  }

  /** Leaves the cluster's counts (within LEAVE_TIMEOUT_MS) and closes the connection, which it owns. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#announce = () => undefined;
    this.#local.clear();
    // Redis away: nothing to wait for (the other nodes reap this one).
    if (!redisAnswers(this.#redis)) return closeRedis(this.#redis);
    const leave = this.#redis.eval(LEAVE_SCRIPT, 4, K.nodes, this.#nodeKey, K.users, K.pending, this.#self);
    await withTimeout(leave, LEAVE_TIMEOUT_MS, () => new CashewError('ERR_TIMEOUT', 'presence leave')).catch(
      (error: unknown) =>
        this.#logger.warn(
          { err: String(error) },
          'presence: leave not written; the other nodes reap this one',
        ),
    );
    await closeRedis(this.#redis);
  }

  /** Users with a device on this node (a bound check for tests). */
  get localUsers(): number {
    return this.#local.size;
  }

  async #beat(): Promise<void> {
    if (this.#beating) return; // Redis slow or away: one heartbeat at a time
    this.#beating = true;
    try {
      const deadAfter = PRESENCE_DEAD_AFTER_HEARTBEATS * this.#heartbeatMs;
      const reply = stringsOf(
        await this.#redis.eval(
          HEARTBEAT_SCRIPT,
          4,
          K.nodes,
          K.users,
          K.online,
          K.pending,
          this.#self,
          deadAfter,
          this.#graceMs,
          this.#heartbeatMs,
          `${PRESENCE_KEY_PREFIX}node:`,
        ),
      );
      if (reply[0] === 'rejoin') {
        this.#logger.warn(
          { brokerId: this.#self },
          'presence: this node was taken for dead; registering again',
        );
        await this.#join();
        return;
      }
      const events: PresenceEvent[] = [];
      for (let index = 0; index + 1 < reply.length; index += 2)
        events.push({ userId: reply[index] ?? '', online: false, devices: 0, at: Number(reply[index + 1]) });
      if (events.length > 0) this.#announce(events);
    } catch (error) {
      this.#logger.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'presence heartbeat failed',
      );
    } finally {
      this.#beating = false;
    }
  }

  /** Registers this node with the devices it holds; their users new to the cluster are online. */
  async #join(): Promise<undefined> {
    const pairs = [...this.#local].flatMap(([userId, devices]) => [userId, String(devices)]);
    const reply = stringsOf(
      await this.#redis.eval(
        JOIN_SCRIPT,
        5,
        K.nodes,
        this.#nodeKey,
        K.users,
        K.online,
        K.pending,
        this.#self,
        ...pairs,
      ),
    );
    const events: PresenceEvent[] = [];
    for (let index = 0; index + 2 < reply.length; index += 3)
      events.push({
        userId: reply[index] ?? '',
        online: true,
        devices: Number(reply[index + 1]),
        at: Number(reply[index + 2]),
      });
    if (events.length > 0) this.#announce(events);
    return undefined;
  }

  #rejoin(): Promise<undefined> {
    return this.#join();
  }
}
