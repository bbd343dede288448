// Retained messages indexed by their first topic level (the user partition), so that a SUBSCRIBE
// whose first level is literal (every user subscription) only looks at its own partition instead
// of every retained message on the broker, which is what aedes-persistence's in-memory store does.

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

function firstLevelOf(topic: string): string {
  const slash = topic.indexOf(SEPARATOR);
  return slash === -1 ? topic : topic.slice(0, slash);
}

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

export class PartitionedRetainedStore {
  /** first level → (topic → packet), both in insertion order like aedes-persistence's Map. */
  readonly #partitions = new Map<string, Map<string, RetainedPacket>>();
  #count = 0;

  /** Number of retained messages held. */
  get size(): number {
    return this.#count;
  }

  /** Stores a copy of the packet; an empty payload deletes the retained message of its topic. */
  store(packet: RetainedPacket): void {
    const partitionKey = firstLevelOf(packet.topic);
    let partition = this.#partitions.get(partitionKey);
    if (packet.payload.length === 0) {
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
