// Retained messages indexed by their first topic level (the user partition), so that a SUBSCRIBE
// whose first level is literal (every user subscription) only looks at its own partition instead
// of every retained message on the broker, which is what aedes-persistence's in-memory store does.
// It also counts each partition's retained messages and bytes, and is the memory mode's RetainedQuota
// (broker/limits/retained-quota.ts): a reservation made when a PUBLISH is authorized is the same
// entry the store writes when the message arrives.
import {
  overRetainedLimits,
  partitionOf,
  retainedBytesOf,
  type PartitionUsage,
  type RetainedLimits,
  type RetainedQuota,
  type RetainedRefusal,
  type RetainedRoomRequest,
} from '../../limits/retained-quota.ts';

/** The fields aedes reads back from a retained message. */
export interface RetainedPacket {
  readonly cmd: 'publish';
  readonly topic: string;
  readonly payload: Buffer | string;
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
  readonly [field: string]: unknown;
}

const SEPARATOR = '/';
const ONE_LEVEL = '+';
const ALL_LEVELS = '#';

/**
 * Whether a topic matches a filter, with the semantics of aedes-persistence's matcher (qlobber):
 * `+` matches exactly one level (which may be empty), `#` matches the rest, including the parent
 * level (`a/#` matches `a`). Like aedes-persistence, `$`-topics get no special treatment here;
 * aedes and Cashew's policy decide who may subscribe to them.
 */
export function topicMatches(filterLevels: readonly string[], topic: string): boolean {
  const topicLevels = topic.split(SEPARATOR);
  for (let i = 0; i < filterLevels.length; i++) {
    const level = filterLevels[i];
    if (level === ALL_LEVELS) return true;
    if (i >= topicLevels.length) return false;
    if (level !== ONE_LEVEL && level !== topicLevels[i]) return false;
  }
  return topicLevels.length === filterLevels.length;
}

/** One partition's index: the bytes of each topic's message, held or reserved, and their sum. */
class Usage implements PartitionUsage {
  readonly #sizes = new Map<string, number>();
  bytes = 0;

  get count(): number {
    return this.#sizes.size;
  }

  bytesOf(topic: string): number | undefined {
    return this.#sizes.get(topic);
  }

  set(topic: string, bytes: number): void {
    this.bytes += bytes - (this.#sizes.get(topic) ?? 0);
    this.#sizes.set(topic, bytes);
  }

  delete(topic: string): void {
    this.bytes -= this.#sizes.get(topic) ?? 0;
    this.#sizes.delete(topic);
  }
}

export class PartitionedRetainedStore implements RetainedQuota {
  readonly #limits: RetainedLimits;
  /** first level → (topic → packet), both in insertion order like aedes-persistence's Map. */
  readonly #partitions = new Map<string, Map<string, RetainedPacket>>();
  /** first level → what it holds and has reserved (a partition with neither has no entry). */
  readonly #usage = new Map<string, Usage>();
  #count = 0;

  constructor(limits: RetainedLimits) {
    this.#limits = limits;
  }

  /** Number of retained messages held. */
  get size(): number {
    return this.#count;
  }

  /** Retained messages (held or reserved) and their bytes in one partition. */
  usage(partition: string): { readonly count: number; readonly bytes: number } {
    const usage = this.#usage.get(partition);
    return { count: usage?.count ?? 0, bytes: usage?.bytes ?? 0 };
  }

  reserve(request: RetainedRoomRequest): Promise<RetainedRefusal | undefined> {
    const partition = partitionOf(request.topic);
    const usage = this.#usage.get(partition) ?? new Usage();
    const refusal = overRetainedLimits(usage, request, this.#limits);
    if (refusal === undefined) {
      usage.set(request.topic, request.bytes);
      this.#usage.set(partition, usage);
    }
    return Promise.resolve(refusal);
  }

  release(topic: string): Promise<void> {
    this.#account(partitionOf(topic), topic, undefined);
    return Promise.resolve();
  }

  #account(partition: string, topic: string, bytes: number | undefined): void {
    const usage = this.#usage.get(partition) ?? new Usage();
    if (bytes === undefined) usage.delete(topic);
    else usage.set(topic, bytes);
    if (usage.count === 0) this.#usage.delete(partition);
    else this.#usage.set(partition, usage);
  }

  /** Stores a copy of the packet; an empty payload deletes the retained message of its topic. */
  store(packet: RetainedPacket): void {
    const partitionKey = partitionOf(packet.topic);
    let partition = this.#partitions.get(partitionKey);
    if (packet.payload.length === 0) {
      this.#account(partitionKey, packet.topic, undefined);
      if (partition?.delete(packet.topic) === true) {
        this.#count--;
        if (partition.size === 0) this.#partitions.delete(partitionKey);
      }
      return;
    }
    if (partition === undefined) {
      partition = new Map();
      this.#partitions.set(partitionKey, partition);
    }
    if (!partition.has(packet.topic)) this.#count++;
    partition.set(packet.topic, { ...packet });
    this.#account(partitionKey, packet.topic, retainedBytesOf(packet.topic, packet.payload));
  }

  /** The retained messages matching one filter: one partition when its first level is literal. */
  *match(filter: string): Generator<RetainedPacket> {
    const levels = filter.split(SEPARATOR);
    const first = levels[0] ?? '';
    if (first !== ONE_LEVEL && first !== ALL_LEVELS) {
      const partition = this.#partitions.get(first);
      if (partition !== undefined) yield* matching(partition, levels);
      return;
    }
    for (const partition of this.#partitions.values()) yield* matching(partition, levels);
  }

  /** The retained messages matching any of the filters, filter by filter (as aedes-persistence). */
  *matchAll(filters: readonly string[]): Generator<RetainedPacket> {
    for (const filter of filters) yield* this.match(filter);
  }
}

function* matching(partition: Map<string, RetainedPacket>, levels: readonly string[]) {
  for (const [topic, packet] of partition) {
    if (topicMatches(levels, topic)) yield packet;
  }
}
