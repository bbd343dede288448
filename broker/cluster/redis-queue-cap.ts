// The cap on what a persistent session queues (MAX_QUEUED_MESSAGES, MAX_QUEUED_BYTES) with
// aedes-persistence-redis, where a session's queue is the Redis list `outgoing:<client id>` of packet
// keys (`packet:<broker>:<counter>`, shared by every session it was queued for and counted by
// `packet:<broker>:<counter>:offlineCount`; a QoS 2 message becomes `outgoing:<client id>:…` once
// sent). Drops the OLDEST entries past the cap and releases the packets no session holds any more — as
// the in-memory store does (broker/aedes/persistence/session-queues.ts).
//
// Every step is O(1) in the queue's length (a first version summed the list on every enqueue: a flood
// to an offline session made Redis itself the bottleneck, quadratic in the queue). Cashew keeps, per
// session, the size of each queued message (topic + payload) in `cashew:queue-sizes:<client id>` and
// their sum in `cashew:queue-bytes:<client id>`: added at enqueue, taken off when the client
// acknowledges a message (outgoingClearMessageId returns it) or when the cap drops it. A message
// acknowledged after its QoS 2 PUBREC is not taken off (counted until the session is cleaned):
// Cashew's clients use QoS 0 and 1.
import type { Redis } from 'ioredis';
import type { QueueCap, QueueDrop } from '../aedes/persistence/session-queues.ts';
import { queuedBytesOf } from '../aedes/persistence/session-queues.ts';

/**
 * KEYS: the session's list, its sizes hash, its bytes counter. ARGV: packet key, its size, max
 * messages, max bytes. Returns [dropped, 1 if by message count].
 */
const ENQUEUED = `
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
local bytes = redis.call('INCRBY', KEYS[3], tonumber(ARGV[2]))
local count = redis.call('LLEN', KEYS[1])
local maxCount = tonumber(ARGV[3])
local maxBytes = tonumber(ARGV[4])
if count <= maxCount and bytes <= maxBytes then return {0, 0} end
local byCount = count > maxCount and 1 or 0
local dropped = 0
while count > 1 and (count > maxCount or bytes > maxBytes) do
  local key = redis.call('LPOP', KEYS[1])
  if not key then break end
  count = count - 1
  dropped = dropped + 1
  local size = tonumber(redis.call('HGET', KEYS[2], key) or '0')
  redis.call('HDEL', KEYS[2], key)
  bytes = redis.call('DECRBY', KEYS[3], size)
  if string.sub(key, 1, 7) == 'packet:' then
    local countKey = key .. ':offlineCount'
    if redis.call('DECR', countKey) <= 0 then redis.call('DEL', key, countKey) end
  else
    redis.call('DEL', key)
  end
end
return {dropped, byCount}`;

/** KEYS: the session's sizes hash, its bytes counter. ARGV: packet key. An acknowledged message. */
const CLEARED = `
local size = redis.call('HGET', KEYS[1], ARGV[1])
if not size then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('DECRBY', KEYS[2], tonumber(size)) <= 0 then redis.call('DEL', KEYS[2]) end
return 1`;

/** As aedes-persistence-redis names a session's queue and a message (asyncPersistence.js). */
function queueKeyOf(clientId: string): string {
  return `outgoing:${encodeURIComponent(clientId)}`;
}
function packetKeyOf(packet: { brokerId?: unknown; brokerCounter?: unknown }): string {
  return `packet:${String(packet.brokerId)}:${String(packet.brokerCounter)}`;
}
function sizesKeyOf(clientId: string): string {
  return `cashew:queue-sizes:${encodeURIComponent(clientId)}`;
}
function bytesKeyOf(clientId: string): string {
  return `cashew:queue-bytes:${encodeURIComponent(clientId)}`;
}

interface QueuedMessage {
  readonly topic: string;
  readonly payload: Buffer | string;
  readonly brokerId?: unknown;
  readonly brokerCounter?: unknown;
}

export interface QueueingPersistence {
  outgoingEnqueue(subscription: { clientId: string }, packet: unknown): Promise<void>;
  outgoingEnqueueCombi(subscriptions: readonly { clientId: string }[], packet: unknown): Promise<void>;
  outgoingClearMessageId(client: { id: string }, packet: unknown): Promise<unknown>;
  cleanSubscriptions(client: { id: string }): Promise<unknown>;
}

function isQueuedMessage(packet: unknown): packet is QueuedMessage {
  return typeof packet === 'object' && packet !== null && 'topic' in packet && 'payload' in packet;
}

/** Makes `persistence` keep each session's queue within `cap`. */
export function capSessionQueues(
  persistence: QueueingPersistence,
  redis: Redis,
  cap: QueueCap,
  onDrop: (drop: QueueDrop) => void,
): void {
  const enqueueCombi = persistence.outgoingEnqueueCombi.bind(persistence);
  const clearMessageId = persistence.outgoingClearMessageId.bind(persistence);
  const cleanSubscriptions = persistence.cleanSubscriptions.bind(persistence);

  async function enqueued(clientId: string, packet: QueuedMessage): Promise<void> {
    const keys = [queueKeyOf(clientId), sizesKeyOf(clientId), bytesKeyOf(clientId)];
    const args = [packetKeyOf(packet), queuedBytesOf(packet), cap.maxMessages, cap.maxBytes];
    const result = await redis.eval(ENQUEUED, keys.length, ...keys, ...args);
    const [dropped, byCount] = Array.isArray(result) ? result.map(Number) : [0, 0];
    if (dropped !== undefined && dropped > 0)
      onDrop({ clientId, dropped, limit: byCount === 1 ? 'messages' : 'bytes' });
  }

  persistence.outgoingEnqueueCombi = async (subscriptions, packet) => {
    await enqueueCombi(subscriptions, packet);
    if (!isQueuedMessage(packet)) return;
    for (const subscription of subscriptions) await enqueued(subscription.clientId, packet);
  };
  persistence.outgoingEnqueue = (subscription, packet) =>
    persistence.outgoingEnqueueCombi([subscription], packet);
  persistence.outgoingClearMessageId = async (client, packet) => {
    const cleared = await clearMessageId(client, packet);
    if (isQueuedMessage(cleared))
      await redis.eval(CLEARED, 2, sizesKeyOf(client.id), bytesKeyOf(client.id), packetKeyOf(cleared));
    return cleared;
  };
  persistence.cleanSubscriptions = async (client) => {
    const cleaned = await cleanSubscriptions(client);
    await redis.del(sizesKeyOf(client.id), bytesKeyOf(client.id));
    return cleaned;
  };
}
