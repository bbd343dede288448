// Retained messages per partition on Redis (broker/limits/retained-quota.ts): aedes-persistence-redis
// keeps every retained message in one hash, `retained` (topic → message), which says nothing per
// partition. Cashew keeps an index beside it, shared by every node, so the limits hold across the
// cluster (docs/scaling.md, "Redis keys"):
//
//   cashew:retained:<partition>        hash: topic → bytes (topic and payload) of its retained message
//   cashew:retained-bytes:<partition>  string: the sum of that hash's values
//
// One Lua script changes both keys atomically. A retained PUBLISH being authorized runs it with the
// limits: it checks the partition and, if the message fits, writes the topic's entry — the check and
// the reservation are one step, so two nodes (or two packets of one read batch) cannot both take the
// last slot; a deletion (empty payload) removes the entry then too. Every storeRetained runs it again
// without the limits, after aedes-persistence-redis has stored (or deleted) the message: the index
// follows what is actually held.
import type { RedisPersistence } from 'aedes-persistence-redis';
import type { Redis } from 'ioredis';
import { withTimeout } from '../../protocol/index.ts';
import type { Logger } from '../log/logger.ts';
import {
  bytesRefusal,
  countRefusal,
  partitionOf,
  retainedBytesOf,
  type RetainedLimits,
  type RetainedQuota,
  type RetainedRefusal,
  type RetainedRoomRequest,
} from '../limits/retained-quota.ts';

export const RETAINED_INDEX_PREFIX = 'cashew:retained:';
export const RETAINED_BYTES_PREFIX = 'cashew:retained-bytes:';

/** A reservation not answered by Redis within this long refuses the message. */
export const RETAINED_INDEX_TIMEOUT_MS = 10_000;

/**
 * KEYS: the partition's index hash, its byte total. ARGV: topic, bytes (-1: delete the entry), the
 * count limit and the byte limit (-1: no check). Returns {0, 0} when written, {1, count} when the
 * partition holds the count limit and the topic is new, {2, bytes} when the bytes would be over.
 */
const SET_ENTRY = `
local held = redis.call('HGET', KEYS[1], ARGV[1])
local old = tonumber(held or '0')
local total = tonumber(redis.call('GET', KEYS[2]) or '0')
local size = tonumber(ARGV[2])
if size < 0 then
  if held then
    redis.call('HDEL', KEYS[1], ARGV[1])
    if redis.call('HLEN', KEYS[1]) == 0 then
      redis.call('DEL', KEYS[2])
    else
      redis.call('SET', KEYS[2], total - old)
    end
  end
  return {0, 0}
end
local maxCount = tonumber(ARGV[3])
if maxCount >= 0 then
  local count = redis.call('HLEN', KEYS[1])
  if not held and count >= maxCount then return {1, count} end
  if total - old + size > tonumber(ARGV[4]) then return {2, total - old + size} end
end
redis.call('HSET', KEYS[1], ARGV[1], size)
redis.call('SET', KEYS[2], total - old + size)
return {0, 0}
`;

const COMMAND = 'cashewRetainedSet';
const DELETE = -1;
const NO_CHECK = -1;

/** The connection with the script defined on it (ioredis' defineCommand adds the method at run time). */
interface IndexConnection {
  [COMMAND](
    indexKey: string,
    bytesKey: string,
    topic: string,
    bytes: number,
    maxCount: number,
    maxBytes: number,
  ): Promise<unknown>;
}

function indexConnection(conn: Redis): IndexConnection {
  if (!(COMMAND in conn)) conn.defineCommand(COMMAND, { numberOfKeys: 2, lua: SET_ENTRY });
  return conn as unknown as IndexConnection;
}

function setEntry(
  conn: IndexConnection,
  topic: string,
  bytes: number,
  limits: RetainedLimits | undefined,
): Promise<[number, number]> {
  const partition = partitionOf(topic);
  return conn[COMMAND](
    RETAINED_INDEX_PREFIX + partition,
    RETAINED_BYTES_PREFIX + partition,
    topic,
    bytes,
    limits?.maxPerPartition ?? NO_CHECK,
    limits?.maxBytesPerPartition ?? NO_CHECK,
  ).then(outcomeOf);
}

function outcomeOf(reply: unknown): [number, number] {
  if (Array.isArray(reply) && typeof reply[0] === 'number' && typeof reply[1] === 'number')
    return [reply[0], reply[1]];
  throw new Error(`unexpected reply from the retained-message index: ${JSON.stringify(reply)}`);
}

/**
 * Keeps the index in step with every retained message aedes-persistence-redis stores or deletes. The
 * message is stored first; an index update that fails then is logged, not passed to aedes (which would
 * close the publisher's connection for a message it has stored): the entry written when the PUBLISH was
 * authorized stands.
 */
export function indexRetained(persistence: RedisPersistence, conn: Redis, logger: Logger): void {
  const index = indexConnection(conn);
  const store = persistence.storeRetained.bind(persistence);
  persistence.storeRetained = async (packet) => {
    await store(packet);
    const { topic } = packet;
    const bytes = packet.payload.length === 0 ? DELETE : retainedBytesOf(topic, packet.payload);
    await setEntry(index, topic, bytes, undefined).catch((error: unknown) =>
      logger.warn({ topic, err: error }, 'retained-message index not updated after a store'),
    );
  };
}

/** The cluster's RetainedQuota: check and reserve in one script, on the shared index. */
export class RedisRetainedQuota implements RetainedQuota {
  readonly #index: IndexConnection;
  readonly #limits: RetainedLimits;
  readonly #timeoutMs: number;

  constructor(conn: Redis, limits: RetainedLimits, timeoutMs = RETAINED_INDEX_TIMEOUT_MS) {
    this.#index = indexConnection(conn);
    this.#limits = limits;
    this.#timeoutMs = timeoutMs;
  }

  async reserve(request: RetainedRoomRequest): Promise<RetainedRefusal | undefined> {
    const reserved = setEntry(this.#index, request.topic, request.bytes, this.#limits);
    const [outcome, value] = await withTimeout(
      reserved,
      this.#timeoutMs,
      () => new Error(`no answer from Redis within ${this.#timeoutMs} ms`),
    );
    if (outcome === 1) return countRefusal(request.topic, this.#limits.maxPerPartition);
    if (outcome === 2) return bytesRefusal(request.topic, value, this.#limits.maxBytesPerPartition);
    return undefined;
  }

  async release(topic: string): Promise<void> {
    const released = setEntry(this.#index, topic, DELETE, undefined);
    await withTimeout(
      released,
      this.#timeoutMs,
      () => new Error(`no answer from Redis within ${this.#timeoutMs} ms`),
    );
  }
}
