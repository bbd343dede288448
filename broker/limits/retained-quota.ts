// Retained messages per user partition: a count and a byte budget for each first topic level (the
// user id), so that one user (or a handler writing into that user's partition) cannot make the
// broker hold retained messages without bound. The check is made when a retained PUBLISH is
// authorized, and it reserves the room it grants in the same step: two publishes in flight at once
// (one read batch, or two cluster nodes) cannot both take the last slot. Memory mode keeps the
// index in broker/aedes/persistence/retained-store.ts, Redis mode in broker/cluster/redis-retained-limits.ts.
import type { ErrorCode } from '../../protocol/index.ts';

export interface RetainedLimits {
  /** Retained topics one partition may hold (`MAX_RETAINED_PER_PARTITION`). */
  readonly maxPerPartition: number;
  /** Bytes (topic and payload) of one partition's retained messages (`MAX_RETAINED_BYTES_PER_PARTITION`). */
  readonly maxBytesPerPartition: number;
}

/** What a retained PUBLISH asks for: room for `bytes` on `topic`, in the partition of its first level. */
export interface RetainedRoomRequest {
  readonly topic: string;
  readonly bytes: number;
}

export interface RetainedRefusal {
  readonly code: ErrorCode;
  readonly reason: string;
}

export interface RetainedQuota {
  /**
   * Reserves room for a retained message on `topic` (replacing the one it holds, if any) and resolves
   * undefined, or resolves with why the partition has no room (nothing reserved). Rejects when the
   * index cannot be reached.
   */
  reserve(request: RetainedRoomRequest): Promise<RetainedRefusal | undefined>;
  /** Frees the room of `topic`'s retained message (a deletion is on its way). */
  release(topic: string): Promise<void>;
}

/** The index of one partition as both implementations keep it: topic → bytes, and their sum. */
export interface PartitionUsage {
  /** Bytes of the message held (or reserved) on `topic`, undefined when it holds none. */
  bytesOf(topic: string): number | undefined;
  readonly count: number;
  readonly bytes: number;
}

const SEPARATOR = '/';

/** The partition a topic counts against: its first level. */
export function partitionOf(topic: string): string {
  const slash = topic.indexOf(SEPARATOR);
  return slash === -1 ? topic : topic.slice(0, slash);
}

/** The bytes a retained message is counted for: its topic (UTF-8) and its payload. */
export function retainedBytesOf(topic: string, payload: Buffer | string): number {
  return (
    Buffer.byteLength(topic) + (typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length)
  );
}

/** Why a message of `bytes` on `topic` does not fit the partition, or undefined when it does. */
export function overRetainedLimits(
  usage: PartitionUsage,
  request: RetainedRoomRequest,
  limits: RetainedLimits,
): RetainedRefusal | undefined {
  const held = usage.bytesOf(request.topic);
  if (held === undefined && usage.count >= limits.maxPerPartition)
    return countRefusal(request.topic, limits.maxPerPartition);
  const bytes = usage.bytes - (held ?? 0) + request.bytes;
  if (bytes > limits.maxBytesPerPartition)
    return bytesRefusal(request.topic, bytes, limits.maxBytesPerPartition);
  return undefined;
}

const noRefusal = (): undefined => undefined;

export function countRefusal(topic: string, max: number): RetainedRefusal {
  return {
    code: 'ERR_RETAINED_LIMIT',
    reason: `partition ${partitionOf(topic)} holds MAX_RETAINED_PER_PARTITION ${max} retained messages; not retained, not delivered`,
  };
}

export function bytesRefusal(topic: string, bytes: number, max: number): RetainedRefusal {
  return {
    code: 'ERR_RETAINED_LIMIT',
    reason: `partition ${partitionOf(topic)} would hold ${bytes} retained bytes, over MAX_RETAINED_BYTES_PER_PARTITION ${max}; not retained, not delivered`,
  };
}

/**
 * Room for a PUBLISH in its partition: undefined at once when it is not retained; a deletion (empty
 * payload) always passes and frees its room at once, so that a publisher that deletes one topic and
 * then sets another, each on its PUBACK (sent before aedes stores), finds the slot free; otherwise the
 * reservation's outcome. Never rejects: an index that cannot be reached (Redis away) refuses a new
 * message, as nothing could be retained then anyway.
 */
export function reserveRetainedRoom(
  quota: RetainedQuota,
  packet: { readonly topic: string; readonly payload: Buffer | string; readonly retain: boolean },
): Promise<RetainedRefusal | undefined> | undefined {
  if (!packet.retain) return undefined;
  const { topic } = packet;
  if (packet.payload.length === 0) return quota.release(topic).then(noRefusal, noRefusal);
  return quota
    .reserve({ topic, bytes: retainedBytesOf(topic, packet.payload) })
    .catch((error: unknown): RetainedRefusal => ({
      code: 'ERR_RETAINED_LIMIT',
      reason: `the retained-message index of partition ${partitionOf(topic)} could not be checked (${error instanceof Error ? error.message : String(error)}); not retained, not delivered`,
    }));
}
