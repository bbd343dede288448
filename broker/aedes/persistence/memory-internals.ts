// How aedes-persistence's in-memory store is loaded and which of its methods Cashew replaces (checked
// against aedes-persistence 11.0.0, persistence.js and asyncPersistence.js, and aedes 1.2.0, which
// calls them). Pinned by test/unit/aedes-boundary/memory-internals.test.ts.
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import type { OutgoingPersistence } from './empty-outgoing.ts';
import type { RetainedPacket } from './retained-store.ts';

export type Done = (error: Error | null) => void;

/**
 * The part of the persistence interface that partitioned-memory.ts replaces: aedes 1.2 calls
 * `storeRetained(packet)` without a callback (promise style) and reads retained messages through
 * `createRetainedStreamCombi(patterns)` on SUBSCRIBE; the callback form is kept for older callers.
 */
export interface RetainedPersistence {
  storeRetained(packet: RetainedPacket, done?: Done): Promise<void> | undefined;
  createRetainedStream(pattern: string): Readable;
  createRetainedStreamCombi(patterns: string[]): Readable;
}

// aedes-persistence is CommonJS (`module.exports = factory`) while its typings declare an ES default
// export, which TypeScript under NodeNext cannot reconcile: load it with require and type what we use.
const factory = createRequire(import.meta.url)('aedes-persistence') as () => MemoryPersistence;

/** The parts of the memory store Cashew wraps: retained messages and the outgoing queues. */
export type MemoryPersistence = RetainedPersistence & OutgoingPersistence;

/** A fresh aedes-persistence in-memory store (sessions, subscriptions, inflight, wills, retained). */
export function memoryPersistence(): MemoryPersistence {
  return factory();
}
