// The embedded (single-process) persistence: aedes-persistence's in-memory store for sessions,
// subscriptions, inflight messages and wills, with retained messages moved to a store indexed by
// partition (retained-store.ts). Which methods are replaced, and why, is in memory-internals.ts.
import { Readable } from 'node:stream';
import type { RetainedLimits } from '../../limits/retained-quota.ts';
import { memoryPersistence, type RetainedPersistence } from './memory-internals.ts';
import { PartitionedRetainedStore } from './retained-store.ts';

export type PartitionedMemoryPersistence = RetainedPersistence & {
  /** The retained-message index (the memory mode's RetainedQuota), exposed for the adapter, metrics and tests. */
  readonly retained: PartitionedRetainedStore;
};

/** aedes-persistence's memory store with retained messages indexed by first topic level. */
export function partitionedMemoryPersistence(limits: RetainedLimits): PartitionedMemoryPersistence {
  const persistence = memoryPersistence();
  const retained = new PartitionedRetainedStore(limits);
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
  return Object.assign(persistence, overrides, { retained });
}
