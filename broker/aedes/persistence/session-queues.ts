// The QoS 1/2 messages queued for persistent sessions (the in-memory store), capped per session.
//
// aedes queues every QoS > 0 message for every persistent session whose filters match it, whether its
// client is connected or not (aedes.js `enqueueOffline`), and removes it when the client acknowledges
// it (`outgoingClearMessageId`). aedes-persistence's in-memory store keeps these queues in a private
// field with no bound, and keeps an empty array per client id for ever once one was cleared. This
// store replaces its five outgoing methods (memory-internals.ts names them) with the same behaviour,
// plus a cap per session — messages and bytes — that drops the OLDEST messages to make room (what a
// mobile app wants back after a day offline is the newest state), reported through `onDrop`.
import { Readable } from 'node:stream';
import type { Logger } from '../../log/logger.ts';
import { auditRefusal } from '../../log/audit.ts';
import { countQueuedMessageDropped } from '../../metrics/external.ts';
import { QueuedPacket, type OutgoingPersistence, type QueuedFields } from './memory-internals.ts';

export interface QueueCap {
  /** Messages queued per session at most (`MAX_QUEUED_MESSAGES`). */
  readonly maxMessages: number;
  /** Bytes (topic + payload) queued per session at most (`MAX_QUEUED_BYTES`). */
  readonly maxBytes: number;
}

export interface QueueDrop {
  readonly clientId: string;
  /** Messages dropped (the oldest) to make room for the newest. */
  readonly dropped: number;
  readonly limit: 'messages' | 'bytes';
}

/** One audit line per drop (rate-limited, as every refusal): the session, how many, which limit. */
export function auditQueueDrops(logger: Logger, cap: QueueCap): (drop: QueueDrop) => void {
  return ({ clientId, dropped, limit }) => {
    countQueuedMessageDropped(logger, 'queue_full', dropped);
    auditRefusal(logger, {
      action: 'session',
      identity: 'session',
      clientId,
      code: 'ERR_QUEUE_FULL',
      reason:
        limit === 'messages'
          ? `${dropped} oldest dropped: over MAX_QUEUED_MESSAGES ${cap.maxMessages}`
          : `${dropped} oldest dropped: over MAX_QUEUED_BYTES ${cap.maxBytes}`,
    });
  };
}

/** An object-mode stream that has already ended: what an empty queue streams. */
function endedStream(): Readable {
  const stream = new Readable({ objectMode: true, read() {} });
  stream.push(null);
  return stream;
}

interface Queue {
  packets: QueuedPacket[];
  bytes: number;
}

/** The bytes a queued message holds: its topic and payload (what a client controls). */
export function queuedBytesOf(packet: { readonly topic: string; readonly payload: Buffer | string }): number {
  return Buffer.byteLength(packet.topic) + Buffer.byteLength(packet.payload);
}

export class SessionQueues implements OutgoingPersistence {
  readonly #cap: QueueCap;
  readonly #onDrop: (drop: QueueDrop) => void;
  readonly #queues = new Map<string, Queue>();
  #droppedTotal = 0;

  constructor(cap: QueueCap, onDrop: (drop: QueueDrop) => void) {
    this.#cap = cap;
    this.#onDrop = onDrop;
  }

  /** Sessions with something queued, messages queued in all, and messages dropped since start. */
  stats(): { sessions: number; messages: number; dropped: number } {
    let messages = 0;
    for (const queue of this.#queues.values()) messages += queue.packets.length;
    return { sessions: this.#queues.size, messages, dropped: this.#droppedTotal };
  }

  /** What is queued for one session (tests, the admin API). */
  queuedFor(clientId: string): { messages: number; bytes: number } {
    const queue = this.#queues.get(clientId);
    return { messages: queue?.packets.length ?? 0, bytes: queue?.bytes ?? 0 };
  }

  /** The session is gone (clean session, or expired): everything queued for it goes. */
  forget(clientId: string): void {
    this.#queues.delete(clientId);
  }

  outgoingEnqueue(subscription: { clientId: string }, packet: QueuedFields): Promise<void> {
    this.#enqueue(subscription.clientId, packet);
    return Promise.resolve();
  }

  outgoingEnqueueCombi(subscriptions: readonly { clientId: string }[], packet: QueuedFields): Promise<void> {
    for (const subscription of subscriptions) this.#enqueue(subscription.clientId, packet);
    return Promise.resolve();
  }

  /** As aedes-persistence: the packet sent now gets its message id (or, for QoS 2, becomes a PUBREL). */
  outgoingUpdate(client: { id: string }, packet: QueuedFields): Promise<void> {
    const packets = this.#queues.get(client.id)?.packets ?? [];
    for (let i = 0; i < packets.length; i++) {
      const queued = packets[i];
      if (queued === undefined) continue;
      if (queued.brokerId === packet.brokerId) {
        if (queued.brokerCounter === packet.brokerCounter) {
          queued.messageId = packet.messageId;
          return Promise.resolve();
        }
      } else if (queued.messageId === packet.messageId) {
        packets[i] = new QueuedPacket(packet);
        return Promise.resolve();
      }
    }
    return Promise.reject(new Error('no such packet'));
  }

  /** The client acknowledged a message: it leaves the queue (an unknown id is not an error). */
  outgoingClearMessageId(
    client: { id: string },
    packet: { messageId?: number },
  ): Promise<QueuedPacket | undefined> {
    const queue = this.#queues.get(client.id);
    if (queue === undefined) return Promise.resolve(undefined);
    const at = queue.packets.findIndex((queued) => queued.messageId === packet.messageId);
    if (at === -1) return Promise.resolve(undefined);
    const [cleared] = queue.packets.splice(at, 1);
    if (cleared !== undefined) queue.bytes -= queuedBytesOf(cleared);
    if (queue.packets.length === 0) this.#queues.delete(client.id);
    return Promise.resolve(cleared);
  }

  /**
   * What is queued for the client now (a copy: acknowledgements may arrive while it is streamed). aedes
   * asks on every CONNECT (lib/handlers/connect.js, emptyQueue); a session with nothing queued — most
   * of them — gets an already ended stream, no iterator work.
   */
  outgoingStream(client: { id: string }): Readable {
    const queue = this.#queues.get(client.id);
    return queue === undefined ? endedStream() : Readable.from([...queue.packets]);
  }

  /** Whether anything is queued for the client (the store keeps no entry for an empty queue). */
  outgoingQueued(client: { id: string }): boolean {
    return this.#queues.has(client.id);
  }

  #enqueue(clientId: string, packet: QueuedFields): void {
    let queue = this.#queues.get(clientId);
    if (queue === undefined) this.#queues.set(clientId, (queue = { packets: [], bytes: 0 }));
    const queued = new QueuedPacket(packet);
    queue.packets.push(queued);
    queue.bytes += queuedBytesOf(queued);
    const { maxMessages, maxBytes } = this.#cap;
    if (queue.packets.length <= maxMessages && queue.bytes <= maxBytes) return;
    const limit = queue.packets.length > maxMessages ? 'messages' : 'bytes';
    let dropped = 0;
    // The newest always stays, even alone over maxBytes: a packet within MAX_PACKET_SIZE is deliverable.
    while (queue.packets.length > 1 && (queue.packets.length > maxMessages || queue.bytes > maxBytes)) {
      const oldest = queue.packets.shift();
      if (oldest !== undefined) queue.bytes -= queuedBytesOf(oldest);
      dropped++;
    }
    this.#droppedTotal += dropped;
    this.#onDrop({ clientId, dropped, limit });
  }
}
