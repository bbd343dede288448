// When each persistent session's client left, kept in Redis so that every node expires the sessions
// of the cluster once (broker/aedes/session-expiry.ts).
//
// Keys: `cashew:sessions:away` (sorted set, client id scored by the time it left),
// `cashew:sessions:present` (hash, client id → node holding its connection) and, per user,
// `cashew:sessions:of:<userId>` (sorted set of the user's sessions, for MAX_SESSIONS_PER_USER). A client taken over by
// a connection on another node is closed on its old node AFTER the new one registered; the old node's
// "away" then finds the session present elsewhere and leaves it so (one Lua script, atomic).
// Nodes are named by their stable NODE_ID: a node that starts again (after a crash too) first marks
// away, as of its start, the sessions the store still says it holds. Known bound: a session whose
// node died and never came back stays present until its client connects again (docs/scaling.md).
import type { Redis } from 'ioredis';
import type { AwaySessions } from '../aedes/session-expiry.ts';

const AWAY = 'cashew:sessions:away';
const PRESENT = 'cashew:sessions:present';
/** Prefix of each user's sorted set of sessions: client id scored by when it left, `+inf` if present. */
const OF_USER = 'cashew:sessions:of:';

/**
 * The user key of a client id, in Lua: `<userId>` or `<userId>/<device>` → OF_USER .. userId; none
 * for a handler's (`$handler/…`). As ownerOfClientId in broker/policy/policy.ts (user ids never hold
 * `/` or `$`). Keys built inside scripts: a single Redis (or one hash slot), not Redis Cluster.
 */
const USER_KEY = `
local function userKey(id)
  if string.sub(id, 1, 1) == '$' then return nil end
  local user = string.match(id, '^[^/]+')
  if user == nil then return nil end
  return '${OF_USER}' .. user
end`;

/** KEYS: away, present. ARGV: client id, node id, max sessions per user. The user's sessions to remove. */
const BACK = `${USER_KEY}
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZREM', KEYS[1], ARGV[1])
local key = userKey(ARGV[1])
if key == nil then return {} end
redis.call('ZADD', key, '+inf', ARGV[1])
local over = redis.call('ZCARD', key) - tonumber(ARGV[3])
if over <= 0 then return {} end
local evicted = redis.call('ZRANGEBYSCORE', key, '-inf', '(+inf', 'LIMIT', 0, over)
for _, id in ipairs(evicted) do
  redis.call('ZREM', key, id)
  redis.call('ZREM', KEYS[1], id)
end
return evicted`;

/** KEYS: away, present. ARGV: client id, node id, time it left. Away only if nobody else holds it. */
const AWAY_IF_HELD_HERE = `${USER_KEY}
local holder = redis.call('HGET', KEYS[2], ARGV[1])
if holder and holder ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
local key = userKey(ARGV[1])
if key ~= nil then redis.call('ZADD', key, ARGV[3], ARGV[1]) end
return 1`;

/** KEYS: away, present. ARGV: cutoff, max. Takes the expired sessions nobody holds. */
const TAKE_EXPIRED = `${USER_KEY}
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local taken = {}
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  if redis.call('HEXISTS', KEYS[2], id) == 0 then
    table.insert(taken, id)
    local key = userKey(id)
    if key ~= nil then redis.call('ZREM', key, id) end
  end
end
return taken`;

function clientIds(reply: unknown): string[] {
  return Array.isArray(reply) ? reply.filter((id): id is string => typeof id === 'string') : [];
}

export class RedisAwaySessions implements AwaySessions {
  readonly #redis: Redis;
  readonly #nodeId: string;

  constructor(redis: Redis, nodeId: string) {
    this.#redis = redis;
    this.#nodeId = nodeId;
  }

  async back(clientId: string, maxPerUser: number): Promise<string[]> {
    return clientIds(await this.#redis.eval(BACK, 2, AWAY, PRESENT, clientId, this.#nodeId, maxPerUser));
  }

  async away(clientId: string, at: number): Promise<void> {
    await this.#redis.eval(AWAY_IF_HELD_HERE, 2, AWAY, PRESENT, clientId, this.#nodeId, at);
  }

  /** At start: sessions this node held when it last stopped are away since now. */
  async reclaim(at: number): Promise<number> {
    let reclaimed = 0;
    for await (const entries of this.#redis.hscanStream(PRESENT, { count: 500 })) {
      const fields = entries as string[];
      for (let i = 0; i + 1 < fields.length; i += 2) {
        const clientId = fields[i];
        if (clientId === undefined || fields[i + 1] !== this.#nodeId) continue;
        reclaimed += Number(
          await this.#redis.eval(AWAY_IF_HELD_HERE, 2, AWAY, PRESENT, clientId, this.#nodeId, at),
        );
      }
    }
    return reclaimed;
  }

  async takeExpired(cutoff: number, max: number): Promise<string[]> {
    return clientIds(await this.#redis.eval(TAKE_EXPIRED, 2, AWAY, PRESENT, cutoff, max));
  }
}
