// How aedes-persistence's in-memory store is loaded and which of its methods Cashew replaces (checked
// against aedes-persistence 11.0.0, persistence.js and asyncPersistence.js, and aedes 1.2.0, which
// calls them). Pinned by test/unit/aedes-boundary/memory-internals.test.ts.
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
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

/** The fields of a queued message that aedes and this store read (aedes-packet's `Packet`). */
export interface QueuedFields {
  readonly cmd?: string;
  readonly topic: string;
  readonly payload: Buffer | string;
  readonly qos?: number;
  readonly brokerId?: string;
  readonly brokerCounter?: number;
  messageId?: number;
  readonly [field: string]: unknown;
}

/** aedes-packet's `Packet`: a copy of a message as aedes-persistence queues it. */
export interface QueuedPacket extends QueuedFields {
  readonly brokerId: string;
  readonly brokerCounter: number;
}
export const QueuedPacket = (
  createRequire(import.meta.url)('aedes-persistence') as {
    Packet: new (original: QueuedFields) => QueuedPacket;
  }
).Packet;

/**
 * aedes-persistence's outgoing (queued message) methods, which session-queues.ts replaces: aedes 1.2
 * calls `outgoingEnqueueCombi` for every QoS > 0 message with the persistent sessions it matches,
 * `outgoingEnqueue` for `client.publish`, `outgoingUpdate` when it sends one, `outgoingClearMessageId`
 * on PUBACK/PUBCOMP, `outgoingStream` at CONNECT (lib/handlers/connect.js, emptyQueue).
 */
export interface OutgoingPersistence {
  outgoingEnqueue(subscription: { clientId: string }, packet: QueuedFields): Promise<void>;
  outgoingEnqueueCombi(subscriptions: readonly { clientId: string }[], packet: QueuedFields): Promise<void>;
  outgoingUpdate(client: { id: string }, packet: QueuedFields): Promise<void>;
  outgoingClearMessageId(client: { id: string }, packet: { messageId?: number }): Promise<unknown>;
  outgoingStream(client: { id: string }): Readable;
  /** Whether anything is queued for the client: read by aedes with Cashew's patch (emptyQueue). */
  outgoingQueued?(client: { id: string }): boolean;
}

// aedes-persistence is CommonJS (`module.exports = factory`) while its typings declare an ES default
// export, which TypeScript under NodeNext cannot reconcile: load it with require and type what we use.
const factory = createRequire(import.meta.url)('aedes-persistence') as () => MemoryPersistence;

/** The parts of the memory store Cashew wraps: retained messages and the outgoing queues. */
export type MemoryPersistence = RetainedPersistence &
  OutgoingPersistence & {
    cleanSubscriptions(client: { id: string }): Promise<unknown>;
  };

/** A fresh aedes-persistence in-memory store (sessions, subscriptions, inflight, wills, retained). */
export function memoryPersistence(): MemoryPersistence {
  return factory();
}
