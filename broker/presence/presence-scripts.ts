// The Lua scripts of the cluster's presence (redis-presence-store.ts), each one atomic in Redis, so
// that two nodes never both decide the same change. Time is Redis' own (TIME), the one clock all
// nodes share. Keys, under the prefix `cashew:presence:`:
// - `nodes`            sorted set: broker id → its last heartbeat (ms)
// - `node:<brokerId>`  hash: user id → devices connected on that node
// - `users`            hash: user id → devices connected in the cluster (the sum of the node hashes)
// - `online`           set: users announced online (and not announced offline since)
// - `pending`          sorted set: user id → when its last device went (waiting out the grace period)
// A dead node's hash is read by name inside the heartbeat script (one Redis, not Redis Cluster).

export const PRESENCE_KEY_PREFIX = 'cashew:presence:';

export const PRESENCE_KEYS = {
  nodes: `${PRESENCE_KEY_PREFIX}nodes`,
  users: `${PRESENCE_KEY_PREFIX}users`,
  online: `${PRESENCE_KEY_PREFIX}online`,
  pending: `${PRESENCE_KEY_PREFIX}pending`,
} as const;

export function nodeKey(brokerId: string): string {
  return `${PRESENCE_KEY_PREFIX}node:${brokerId}`;
}

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * KEYS nodes, node:self, users, online, pending; ARGV self, userId.
 * → {-2} when this node is not registered (it must rejoin), else {total, at} with at = -1 unless the
 * user is newly online.
 */
export const CONNECTED_SCRIPT = `${NOW}
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return {-2, 0} end
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
local total = redis.call('HINCRBY', KEYS[3], ARGV[2], 1)
redis.call('ZREM', KEYS[5], ARGV[2])
if redis.call('SADD', KEYS[4], ARGV[2]) == 1 then return {total, now} end
return {total, -1}`;

/**
 * KEYS nodes, node:self, users, pending; ARGV self, userId.
 * → {-2} not registered; {total, -1} devices remain; {0, at} the user's last device went at `at`.
 */
export const DISCONNECTED_SCRIPT = `${NOW}
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return {-2, 0} end
if redis.call('HINCRBY', KEYS[2], ARGV[2], -1) <= 0 then redis.call('HDEL', KEYS[2], ARGV[2]) end
local total = redis.call('HINCRBY', KEYS[3], ARGV[2], -1)
if total > 0 then return {total, -1} end
redis.call('HDEL', KEYS[3], ARGV[2])
redis.call('ZADD', KEYS[4], now, ARGV[2])
return {0, now}`;

/** KEYS users, online, pending; ARGV userId, at. → 1 when the user is now offline (announce it). */
export const SETTLE_SCRIPT = `
local at = redis.call('ZSCORE', KEYS[3], ARGV[1])
if not at or tonumber(at) ~= tonumber(ARGV[2]) then return 0 end
redis.call('ZREM', KEYS[3], ARGV[1])
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
return redis.call('SREM', KEYS[2], ARGV[1])`;

/**
 * KEYS nodes, users, online, pending; ARGV self, deadAfterMs, graceMs, marginMs, node key prefix.
 * Refreshes this node's heartbeat; unless this node was itself cut off from Redis for longer than
 * deadAfterMs (then the others' heartbeats could not arrive either), reaps the nodes not heard from
 * within deadAfterMs (their devices are gone) and settles the grace periods no node settled in time
 * (their node died or stopped). → {'rejoin'} when this node is not registered, else a flat list of
 * users now offline and when: {userId, at, userId, at, …}.
 */
export const HEARTBEAT_SCRIPT = `${NOW}
local previous = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not previous then return {'rejoin'} end
redis.call('ZADD', KEYS[1], now, ARGV[1])
local offline = {}
if now - tonumber(previous) > tonumber(ARGV[2]) then return offline end
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]), 'WITHSCORES')
for i = 1, #dead, 2 do
  local key = ARGV[5] .. dead[i]
  local counts = redis.call('HGETALL', key)
  for j = 1, #counts, 2 do
    local user = counts[j]
    if redis.call('HINCRBY', KEYS[2], user, -tonumber(counts[j + 1])) <= 0 then
      redis.call('HDEL', KEYS[2], user)
      redis.call('ZREM', KEYS[4], user)
      if redis.call('SREM', KEYS[3], user) == 1 then
        table.insert(offline, user)
        table.insert(offline, dead[i + 1])
      end
    end
  end
  redis.call('DEL', key)
  redis.call('ZREM', KEYS[1], dead[i])
end
local due = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now - tonumber(ARGV[3]) - tonumber(ARGV[4]), 'WITHSCORES')
for i = 1, #due, 2 do
  redis.call('ZREM', KEYS[4], due[i])
  if redis.call('HEXISTS', KEYS[2], due[i]) == 0 and redis.call('SREM', KEYS[3], due[i]) == 1 then
    table.insert(offline, due[i])
    table.insert(offline, due[i + 1])
  end
end
return offline`;

/**
 * KEYS nodes, node:self, users, online, pending; ARGV self, then userId, devices pairs: registers
 * this node with the devices it holds (at start: none; after it was reaped, or Redis lost its data:
 * all of them). → a flat list of users now online: {userId, total, at, …}.
 */
export const JOIN_SCRIPT = `${NOW}
local out = {}
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return out end
redis.call('DEL', KEYS[2])
redis.call('ZADD', KEYS[1], now, ARGV[1])
for i = 2, #ARGV, 2 do
  local user = ARGV[i]
  redis.call('HSET', KEYS[2], user, ARGV[i + 1])
  local total = redis.call('HINCRBY', KEYS[3], user, tonumber(ARGV[i + 1]))
  redis.call('ZREM', KEYS[5], user)
  if redis.call('SADD', KEYS[4], user) == 1 then
    table.insert(out, user)
    table.insert(out, total)
    table.insert(out, now)
  end
end
return out`;

/**
 * KEYS nodes, node:self, users, pending; ARGV self: a node that stops leaves. Devices it still
 * counts (a release not written yet) are taken off the cluster's counts; a user left with none waits
 * out the grace period, settled by the other nodes' heartbeats.
 */
export const LEAVE_SCRIPT = `${NOW}
local counts = redis.call('HGETALL', KEYS[2])
for j = 1, #counts, 2 do
  if redis.call('HINCRBY', KEYS[3], counts[j], -tonumber(counts[j + 1])) <= 0 then
    redis.call('HDEL', KEYS[3], counts[j])
    redis.call('ZADD', KEYS[4], now, counts[j])
  end
end
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[1])
return 1`;
