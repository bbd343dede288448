// The embedded (single-process) persistence: aedes-persistence's in-memory store for sessions,
// subscriptions, inflight messages and wills, with retained messages moved to a store indexed by
// partition (retained-store.ts), and no stream work on CONNECT for sessions with nothing queued
// (empty-outgoing.ts). Which methods are replaced, and why, is in memory-internals.ts.
import { Readable } from 'node:stream';
import { skipEmptyOutgoing, type OutgoingTracking } from './empty-outgoing.ts';
import { memoryPersistence, type MemoryPersistence, type RetainedPersistence } from './memory-internals.ts';
import { PartitionedRetainedStore } from './retained-store.ts';

export type PartitionedMemoryPersistence = MemoryPersistence & {
  /** The retained-message index, exposed for metrics and tests. */
  readonly retained: PartitionedRetainedStore;
  /** What is queued per client id (empty-outgoing.ts), for metrics and tests. */
  readonly outgoing: OutgoingTracking;
};

/** aedes-persistence's memory store with retained messages indexed by first topic level. */
export function partitionedMemoryPersistence(): PartitionedMemoryPersistence {
  const persistence = memoryPersistence();
  const retained = new PartitionedRetainedStore();
  const overrides: RetainedPersistence = {
    storeRetained(packet, done) {
      retained.store(packet);
      if (done === undefined) return Promise.resolve();
      process.nextTick(done, null);
      return undefined;
    },
    createRetainedStream: (pattern) => Readable.from(retained.match(pattern)),
    createRetainedStreamCombi: (patterns) => Readable.from(retained.matchAll(patterns)),
  };
  const outgoing = skipEmptyOutgoing(persistence);
  return Object.assign(persistence, overrides, { retained, outgoing });
}
