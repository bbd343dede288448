// Sessions with nothing queued cost no stream work. On every CONNECT aedes (1.2, lib/handlers/connect.js
// `emptyQueue`) asks the persistence for `outgoingStream(client)` and pipes it through a Transform,
// even for a session that never had a message queued; aedes-persistence's memory store answers with
// two nested `Readable.from` over a copy of an empty array. This wrapper counts what is queued per
// client id — +1 per `outgoingEnqueue`/`outgoingEnqueueCombi` subscription, −1 per message that
// `outgoingClearMessageId` actually removed (the store's only ways in and out; `outgoingUpdate`
// replaces in place) — and answers an empty, already ended stream when the count is zero, without
// touching the store. A count is only ever too high (between a clear's call and its answer), never too
// low: when in doubt the store is asked. `outgoingClearMessageId` for a client with nothing queued
// (a PUBACK for a message never stored) also skips the store, which would otherwise create an empty
// queue for that client id and keep it forever.
//
// Where aedes carries Cashew's patch (patches/aedes+1.2.0.patch, applied in this repository's own
// installs only, see docs/performance.md), `emptyQueue` first asks the persistence's synchronous
// `outgoingQueued(client)` and skips the stream, the Transform and the pipeline altogether. An aedes
// without the patch never calls it and gets the ended stream: same behaviour, less gain.
import { Readable } from 'node:stream';

/** The outgoing-queue methods of an aedes persistence (aedes-persistence 11, promise style). */
export interface OutgoingPersistence {
  outgoingEnqueue(
    sub: { readonly clientId: string },
    packet: object,
    done?: unknown,
  ): Promise<void> | undefined;
  outgoingEnqueueCombi(
    subs: readonly { readonly clientId: string }[],
    packet: object,
    done?: unknown,
  ): Promise<void> | undefined;
  outgoingClearMessageId(
    client: { readonly id: string },
    packet: object,
    done?: unknown,
  ): Promise<object | undefined> | undefined;
  /** Not wrapped: it changes a queued message in place (message id, PUBREL), never the count. */
  outgoingUpdate(client: { readonly id: string }, packet: object, done?: unknown): Promise<void> | undefined;
  outgoingStream(client: { readonly id: string }): Readable;
  /** Added here: whether the client id may have something queued (read by patched aedes). */
  outgoingQueued?: (client: { readonly id: string }) => boolean;
}

export interface OutgoingTracking {
  /** Messages queued for a client id as far as the wrapper knows (0 when none). */
  queuedFor(clientId: string): number;
  /** Client ids with something queued. */
  readonly queuedClients: number;
}

/** An object-mode stream that has already ended: what an empty queue streams. */
function endedStream(): Readable {
  const stream = new Readable({ objectMode: true, read() {} });
  stream.push(null);
  return stream;
}

/**
 * Wraps the outgoing-queue methods of `persistence` in place and returns the tracking. Only the
 * promise forms are counted (aedes 1.2 uses no callbacks here); a callback call goes straight to the
 * store and marks the client as queued, so that it is never skipped.
 */
export function skipEmptyOutgoing(persistence: OutgoingPersistence): OutgoingTracking {
  const queued = new Map<string, number>();
  const add = (clientId: string): void => {
    queued.set(clientId, (queued.get(clientId) ?? 0) + 1);
  };
  const remove = (clientId: string): void => {
    const count = queued.get(clientId) ?? 0;
    if (count <= 1) queued.delete(clientId);
    else queued.set(clientId, count - 1);
  };
  const enqueue = persistence.outgoingEnqueue.bind(persistence);
  const enqueueCombi = persistence.outgoingEnqueueCombi.bind(persistence);
  const clear = persistence.outgoingClearMessageId.bind(persistence);
  const stream = persistence.outgoingStream.bind(persistence);
  persistence.outgoingEnqueue = (sub, packet, done) => {
    add(sub.clientId);
    return enqueue(sub, packet, done);
  };
  persistence.outgoingEnqueueCombi = (subs, packet, done) => {
    for (const sub of subs) add(sub.clientId);
    return enqueueCombi(subs, packet, done);
  };
  persistence.outgoingClearMessageId = (client, packet, done) => {
    if (done !== undefined) return clear(client, packet, done);
    if (!queued.has(client.id)) return Promise.resolve(undefined);
    return clear(client, packet)?.then((removed) => {
      if (removed !== undefined) remove(client.id);
      return removed;
    });
  };
  persistence.outgoingStream = (client) => (queued.has(client.id) ? stream(client) : endedStream());
  persistence.outgoingQueued = (client) => queued.has(client.id);
  return {
    queuedFor: (clientId) => queued.get(clientId) ?? 0,
    get queuedClients() {
      return queued.size;
    },
  };
}
