// The cap on what a persistent session queues (MAX_QUEUED_MESSAGES, MAX_QUEUED_BYTES) with
// aedes-persistence-redis, where a session's queue is the Redis list `outgoing:<client id>` of packet
// keys (`packet:<broker>:<counter>`, shared by every session it was queued for and counted by
// `packet:<broker>:<counter>:offlineCount`; a QoS 2 message becomes `outgoing:<client id>:…` once
// sent). After each enqueue one Lua script, atomic across nodes, drops the OLDEST entries of each
// session past the cap and releases the packets no session holds any more — as the in-memory store
// does (broker/aedes/persistence/session-queues.ts). Bytes here are the stored (msgpack) size of each
// message: its topic, payload and a few dozen bytes of fields.
import type { Redis } from 'ioredis';
import type { QueueCap, QueueDrop } from '../aedes/persistence/session-queues.ts';

/** KEYS: the session's list. ARGV: max messages, max bytes. Returns [dropped, 1 if by messages]. */
const TRIM_OLDEST = `
local keys = redis.call('LRANGE', KEYS[1], 0, -1)
local count = #keys
local maxCount = tonumber(ARGV[1])
local maxBytes = tonumber(ARGV[2])
local sizes = {}
local total = 0
for i, key in ipairs(keys) do
  sizes[i] = redis.call('STRLEN', key)
  total = total + sizes[i]
end
if count <= maxCount and total <= maxBytes then return {0, 0} end
local byCount = count > maxCount and 1 or 0
local dropped = 0
while count - dropped > 1 and (count - dropped > maxCount or total > maxBytes) do
  dropped = dropped + 1
  local key = keys[dropped]
  total = total - sizes[dropped]
  redis.call('LPOP', KEYS[1])
  if string.sub(key, 1, 7) == 'packet:' then
    local countKey = key .. ':offlineCount'
    if redis.call('DECR', countKey) <= 0 then redis.call('DEL', key, countKey) end
  else
    redis.call('DEL', key)
  end
end
return {dropped, byCount}`;

/** As aedes-persistence-redis names a session's queue (asyncPersistence.js, outgoingKey). */
function queueKeyOf(clientId: string): string {
  return `outgoing:${encodeURIComponent(clientId)}`;
}

export interface QueueingPersistence {
  outgoingEnqueue(subscription: { clientId: string }, packet: unknown): Promise<void>;
  outgoingEnqueueCombi(subscriptions: readonly { clientId: string }[], packet: unknown): Promise<void>;
}

/** Makes `persistence` trim each session's queue to `cap` after every enqueue. */
export function capSessionQueues(
  persistence: QueueingPersistence,
  redis: Redis,
  cap: QueueCap,
  onDrop: (drop: QueueDrop) => void,
): void {
  const enqueueCombi = persistence.outgoingEnqueueCombi.bind(persistence);
  async function trim(clientId: string): Promise<void> {
    const result = await redis.eval(TRIM_OLDEST, 1, queueKeyOf(clientId), cap.maxMessages, cap.maxBytes);
    const [dropped, byCount] = Array.isArray(result) ? result.map(Number) : [0, 0];
    if (dropped !== undefined && dropped > 0)
      onDrop({ clientId, dropped, limit: byCount === 1 ? 'messages' : 'bytes' });
  }
  persistence.outgoingEnqueueCombi = async (subscriptions, packet) => {
    await enqueueCombi(subscriptions, packet);
    for (const subscription of subscriptions) await trim(subscription.clientId);
  };
  persistence.outgoingEnqueue = (subscription, packet) =>
    persistence.outgoingEnqueueCombi([subscription], packet);
}
