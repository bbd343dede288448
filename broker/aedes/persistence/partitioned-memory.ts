// The embedded (single-process) persistence: aedes-persistence's in-memory store for sessions,
// subscriptions, inflight messages and wills, with retained messages moved to a store indexed by
// partition (retained-store.ts) and queued messages to a store capped per session (session-queues.ts),
// which costs a session with nothing queued no stream work at CONNECT.
// Which methods are replaced, and why, is in memory-internals.ts.
import { Readable } from 'node:stream';
import type { RetainedLimits } from '../../limits/retained-quota.ts';
import { memoryPersistence, type OutgoingPersistence, type RetainedPersistence } from './memory-internals.ts';
import { PartitionedRetainedStore } from './retained-store.ts';
import { SessionQueues, type QueueCap, type QueueDrop } from './session-queues.ts';

export type PartitionedMemoryPersistence = RetainedPersistence &
  OutgoingPersistence & {
    /** The retained-message index (the memory mode's RetainedQuota), exposed for the adapter, metrics and tests. */
    readonly retained: PartitionedRetainedStore;
    /** The queues of persistent sessions, exposed for metrics and tests. */
    readonly queues: SessionQueues;
    cleanSubscriptions(client: { id: string }): Promise<unknown>;
  };

/** Generous enough for tests and tools that build a persistence on their own. */
const UNCAPPED: QueueCap = { maxMessages: Number.MAX_SAFE_INTEGER, maxBytes: Number.MAX_SAFE_INTEGER };

/** aedes-persistence's memory store with retained messages by partition and capped session queues. */
export function partitionedMemoryPersistence(
  limits: RetainedLimits,
  cap: QueueCap = UNCAPPED,
  onDrop: (drop: QueueDrop) => void = () => undefined,
): PartitionedMemoryPersistence {
  const persistence = memoryPersistence();
  const retained = new PartitionedRetainedStore(limits);
  const queues = new SessionQueues(cap, onDrop);
  const cleanSubscriptions = persistence.cleanSubscriptions.bind(persistence);
  const overrides: RetainedPersistence &
    OutgoingPersistence &
    Pick<PartitionedMemoryPersistence, 'cleanSubscriptions'> = {
    storeRetained(packet, done) {
      retained.store(packet);
      if (done === undefined) return Promise.resolve();
      process.nextTick(done, null);
      return undefined;
    },
    createRetainedStream: (pattern) => Readable.from(retained.match(pattern)),
    createRetainedStreamCombi: (patterns) => Readable.from(retained.matchAll(patterns)),
    outgoingEnqueue: (subscription, packet) => queues.outgoingEnqueue(subscription, packet),
    outgoingEnqueueCombi: (subscriptions, packet) => queues.outgoingEnqueueCombi(subscriptions, packet),
    outgoingUpdate: (client, packet) => queues.outgoingUpdate(client, packet),
    outgoingClearMessageId: (client, packet) => queues.outgoingClearMessageId(client, packet),
    outgoingStream: (client) => queues.outgoingStream(client),
    // Read by aedes with Cashew's patch (patches/aedes+1.2.0.patch): no stream work for an empty session.
    outgoingQueued: (client) => queues.outgoingQueued(client),
    // A clean session (aedes' CONNECT with clean=true), or an expired one: nothing queued survives it.
    cleanSubscriptions(client) {
      queues.forget(client.id);
      return cleanSubscriptions(client);
    },
  };
  return Object.assign(persistence, overrides, { retained, queues });
}
