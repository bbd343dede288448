// MAX_CONNECTIONS_PER_USER over the whole cluster: each node (each run of it, by its aedes broker id)
// keeps its users' connection counts in its own Redis hash, `cashew:user-connections:<broker id>`,
// listed in the set `cashew:user-connection-nodes`. The hash lives three heartbeats unless the node
// renews it, so the counts of a node that died stop counting within that bound. A CONNECT asks the
// sum of the OTHER nodes' counts (one Lua script, one round trip); this node's own are in the gate.
// Two devices of one user connecting to two nodes at the same instant may both pass at the limit:
// the bound holds to within the CONNECTs in flight.
import type { Redis } from 'ioredis';
import { CashewError, withTimeout } from '../../protocol/index.ts';
import type { Logger } from '../log/logger.ts';
import type { SharedUserConnections } from '../limits/connect-gate.ts';
import { REDIS_CLOSE_TIMEOUT_MS, redisAnswers } from './redis-connection.ts';

const NODES = 'cashew:user-connection-nodes';
const PREFIX = 'cashew:user-connections:';

/** KEYS: nodes set. ARGV: this broker id, user id, key prefix. The user's count on the other nodes. */
const ELSEWHERE = `
local total = 0
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if node ~= ARGV[1] then
    local key = ARGV[3] .. node
    if redis.call('EXISTS', key) == 0 then
      redis.call('SREM', KEYS[1], node)
    else
      total = total + tonumber(redis.call('HGET', key, ARGV[2]) or '0')
    end
  end
end
return total`;

/** KEYS: this node's hash, nodes set. ARGV: user id, +1 or -1, broker id, ttl ms. */
const COUNT = `
local held = redis.call('HINCRBY', KEYS[1], ARGV[1], tonumber(ARGV[2]))
if held <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]))
return held`;

export class RedisUserConnections implements SharedUserConnections {
  readonly #redis: Redis;
  readonly #brokerId: string;
  readonly #key: string;
  readonly #ttlMs: number;
  readonly #logger: Logger;
  readonly #renewal: NodeJS.Timeout;

  constructor(redis: Redis, brokerId: string, heartbeatMs: number, logger: Logger) {
    this.#redis = redis;
    this.#brokerId = brokerId;
    this.#key = PREFIX + brokerId;
    this.#ttlMs = 3 * heartbeatMs;
    this.#logger = logger;
    this.#renewal = setInterval(() => {
      // Not queued while Redis is away (one more command per heartbeat for as long as it is gone):
      // the first heartbeat after it is back renews the hash.
      if (this.#redis.status !== 'ready') return;
      this.#redis.pexpire(this.#key, this.#ttlMs).catch((error: unknown) => this.#failed(error));
    }, heartbeatMs);
    this.#renewal.unref();
  }

  async elsewhere(userId: string): Promise<number> {
    const total = await this.#redis.eval(ELSEWHERE, 1, NODES, this.#brokerId, userId, PREFIX);
    return Number(total);
  }

  opened(userId: string): void {
    this.#count(userId, 1);
  }

  closed(userId: string): void {
    this.#count(userId, -1);
  }

  /** Stops renewing and removes this node's counts (its clients are gone). */
  async close(): Promise<void> {
    clearInterval(this.#renewal);
    if (!redisAnswers(this.#redis)) return; // Redis away or stalled: the hash expires by itself
    // Bounded: with Redis away the DEL waits in the offline queue, and a stopping node must not wait
    // for it (the hash expires three heartbeats after its last renewal).
    await withTimeout(
      this.#redis.del(this.#key),
      REDIS_CLOSE_TIMEOUT_MS,
      () => new CashewError('ERR_TIMEOUT', 'per-user connection counts not removed'),
    ).catch((error: unknown) => this.#failed(error));
  }

  #count(userId: string, change: 1 | -1): void {
    this.#redis
      .eval(COUNT, 2, this.#key, NODES, userId, change, this.#brokerId, this.#ttlMs)
      .catch((error: unknown) => this.#failed(error));
  }

  #failed(error: unknown): void {
    this.#logger.warn({ err: error }, 'per-user connection count not shared with the cluster');
  }
}
