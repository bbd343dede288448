// aedes-persistence-redis ships no types: the part Cashew uses.
declare module 'aedes-persistence-redis' {
  import type { Client, Subscription } from 'aedes';
  import type { Redis } from 'ioredis';
  import type { Readable } from 'node:stream';

  export interface RedisPersistenceOptions {
    /** An existing connection (Cashew passes its own, with its retry policy). */
    readonly conn?: Redis;
    /** Queued messages delivered at most on one CONNECT, minus one (default 1000; -1: all). */
    readonly maxSessionDelivery?: number;
  }

  /** An aedes persistence: passed as is to aedes' `persistence` option. */
  export interface RedisPersistence {
    /** Stores a session's filters; resolves once this node's subscription index has them too. */
    addSubscriptions(client: Client, subscriptions: Subscription[]): Promise<unknown>;
    /** Forgets a session's filters; resolves once this node's subscription index has dropped them. */
    removeSubscriptions(client: Client, topics: string[]): Promise<unknown>;
    /** Forgets a session's filters and, with the last, its queue. */
    cleanSubscriptions(client: { id: string }): Promise<unknown>;
    /** Queues a message for persistent sessions (the list `outgoing:<client id>` of each). */
    outgoingEnqueue(subscription: { clientId: string }, packet: unknown): Promise<void>;
    outgoingEnqueueCombi(subscriptions: readonly { clientId: string }[], packet: unknown): Promise<void>;
    /** The client acknowledged a queued message: resolves with it (as stored), or undefined. */
    outgoingClearMessageId(client: { id: string }, packet: unknown): Promise<unknown>;
    /** Stores a retained message under its topic, or deletes the topic's one when the payload is empty. */
    storeRetained(packet: { readonly topic: string; readonly payload: Buffer | string }): Promise<void>;
    /** The retained messages (objects with at least a `topic`) matching any of the filters. */
    createRetainedStreamCombi(filters: string[]): Readable;
  }

  export default function aedesPersistenceRedis(options?: RedisPersistenceOptions): RedisPersistence;
}
