// The embedded (single-process) persistence: aedes-persistence's in-memory store for sessions,
// subscriptions, inflight messages and wills, with retained messages moved to a store indexed by
// partition (retained-store.ts). aedes 1.x calls storeRetained without a callback (promise style)
// and reads retained messages through createRetainedStream(Combi); both styles are kept.
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { PartitionedRetainedStore, type RetainedPacket } from './retained-store.ts';

type Done = (error: Error | null) => void;

// aedes-persistence is CommonJS (`module.exports = factory`) while its typings declare an ES default
// export, which TypeScript under NodeNext cannot reconcile: load it with require and type what we use.
const aedesMemoryPersistence = createRequire(import.meta.url)('aedes-persistence') as () => object;

/** The part of the aedes persistence interface that this module replaces. */
interface RetainedPersistence {
  storeRetained(packet: RetainedPacket, done?: Done): Promise<void> | undefined;
  createRetainedStream(pattern: string): Readable;
  createRetainedStreamCombi(patterns: string[]): Readable;
}

export type PartitionedMemoryPersistence = RetainedPersistence & {
  /** The retained-message index, exposed for metrics and tests. */
  readonly retained: PartitionedRetainedStore;
};

/** aedes-persistence's memory store with retained messages indexed by first topic level. */
export function partitionedMemoryPersistence(): PartitionedMemoryPersistence {
  const persistence = aedesMemoryPersistence();
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
  return Object.assign(persistence, overrides, { retained });
}
