// aedes-persistence-redis as the cluster uses it: one SUBSCRIBE stored once, the subscription
// changes of one session stored one after another, and everything queued for a session delivered at
// its next CONNECT, and retained messages found for filters with Redis pattern characters — as the
// in-memory persistence does (docs/scaling.md, "Same as one node").
//
// Why (docs/scaling.md, "One SUBSCRIBE, several filters"): aedes 1.2 (lib/handlers/subscribe.js,
// `storeSubscriptions`) calls `addSubscriptions(client, packet.subscriptions)` once per granted
// filter, each time with the whole packet. aedes-persistence-redis 12 then waits for its own
// `$SYS/sub/add` announcement to come back through the emitter (aedes-persistence's
// BroadcastPersistence), and files that wait under the client id and the packet's FIRST filter only.
// The calls of one packet share that key: each replaces the waiter of the one before, the first
// announcement resolves the last waiter, and the other calls wait for ever — a persistent session
// that subscribed to two filters in one packet never got its SUBACK. With the in-process emitter the
// announcement came back before the next call registered its waiter; through Redis it never does.
// Two packets of one client in flight at once (aedes handles a read batch in parallel) with the
// same first filter collide the same way, hence one queue per client id.
import { Readable } from 'node:stream';
import type { Client, Subscription } from 'aedes';
import aedesPersistenceRedis, { type RedisPersistence } from 'aedes-persistence-redis';
import type { Redis } from 'ioredis';
import { topicMatches } from '../aedes/persistence/retained-store.ts';
import type { Logger } from '../log/logger.ts';
import { withTimeout } from '../../protocol/index.ts';
import { indexRetained } from './redis-retained-limits.ts';

/**
 * aedes-persistence-redis hands out at most `maxSessionDelivery` queued messages per CONNECT (default
 * 1000, read as `LRANGE 0 n`) and keeps the rest for the reconnect after; -1 reads the whole list.
 */
const DELIVER_ALL_QUEUED = -1;

/**
 * aedes-persistence-redis looks retained messages of wildcard filters up with `HSCAN MATCH
 * <literal prefix>*`, where `[`, `]` and `\` have a meaning (`?` and `*` only widen it): for a
 * filter such as `alice/[x]/+` it misses the filter's own topics. A filter with a leading wildcard
 * makes it scan every retained message instead; this one's literal level is NUL, which no topic
 * name may hold, and whatever it alone would match is dropped again below.
 */
const SCAN_EVERY_RETAINED = '+/\u0000';
const PATTERN_CHARACTER = /[\\[\]]/;

function prefixHoldsPatternCharacter(filter: string): boolean {
  const wildcard = filter.search(/[+#]/);
  return wildcard !== -1 && PATTERN_CHARACTER.test(filter.slice(0, wildcard));
}

/** A subscription change not confirmed within this long fails: aedes closes the connection. */
export const SUBSCRIPTION_STORE_TIMEOUT_MS = 10_000;

export function redisPersistence(
  conn: Redis,
  logger: Logger,
  timeoutMs = SUBSCRIPTION_STORE_TIMEOUT_MS,
): RedisPersistence {
  const persistence = aedesPersistenceRedis({ conn, maxSessionDelivery: DELIVER_ALL_QUEUED });
  const add = persistence.addSubscriptions.bind(persistence);
  const remove = persistence.removeSubscriptions.bind(persistence);
  /** The store of each SUBSCRIBE packet, by its `subscriptions` array (the same in every call). */
  const stores = new WeakMap<Subscription[], Promise<unknown>>();
  /** The last subscription change of each client id. */
  const queues = new Map<string, Promise<unknown>>();

  function confirmedInTime(clientId: string, change: Promise<unknown>): Promise<unknown> {
    return withTimeout(change, timeoutMs, () => {
      logger.warn({ clientId, timeoutMs }, 'subscription change not confirmed by Redis; connection closed');
      return new Error(`subscriptions of ${clientId} not confirmed within ${timeoutMs} ms`);
    });
  }

  function inTurn(client: Client, change: () => Promise<unknown>): Promise<unknown> {
    const clientId = client.id;
    const previous = queues.get(clientId) ?? Promise.resolve();
    const next = previous.then(() => confirmedInTime(clientId, change()));
    const settled = next.catch(() => undefined);
    queues.set(clientId, settled);
    void settled.then(() => {
      if (queues.get(clientId) === settled) queues.delete(clientId);
    });
    return next;
  }

  persistence.addSubscriptions = (client, subscriptions) => {
    let stored = stores.get(subscriptions);
    if (stored === undefined) {
      stored = inTurn(client, () => add(client, subscriptions));
      stores.set(subscriptions, stored);
    }
    return stored;
  };
  persistence.removeSubscriptions = (client, topics) => inTurn(client, () => remove(client, topics));

  const retainedFor = persistence.createRetainedStreamCombi.bind(persistence);
  // aedes pipes this stream into the subscriber without an 'error' listener: a lookup that fails (its
  // connection dropped by a stop that could not wait for Redis) was an unhandled 'error', and the
  // process died. The subscriber misses its retained messages, as it would with Redis away.
  const onRetainedError = (error: Error): void =>
    logger.warn({ err: error.message }, 'retained messages not read from Redis');
  const retainedStream = (filters: string[]): Readable => {
    if (!filters.some(prefixHoldsPatternCharacter)) return retainedFor(filters);
    const levels = filters.map((filter) => filter.split('/'));
    const everything = retainedFor([...filters, SCAN_EVERY_RETAINED]);
    return Readable.from(
      (async function* matching() {
        for await (const packet of everything as AsyncIterable<{ topic: string }>)
          if (levels.some((filterLevels) => topicMatches(filterLevels, packet.topic))) yield packet;
      })(),
    );
  };
  persistence.createRetainedStreamCombi = (filters) => retainedStream(filters).on('error', onRetainedError);
  indexRetained(persistence, conn, logger); // retained messages counted per partition (redis-retained-limits.ts)
  return persistence;
}
