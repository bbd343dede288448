// The limits enforced per connection while aedes serves it: the topic size, the subscriptions it
// holds and the filters of one SUBSCRIBE, its publish rate and the backlog of what is sent to it. Each check answers with a refusal
// (a code and a reason) or undefined; the adapter audits refusals and answers aedes. A connection to
// be cut is closed once, on the next turn of the event loop (never inside an aedes callback).
import type { Client } from 'aedes';
import type { ErrorCode } from '../../protocol/index.ts';
import type { Identity } from '../auth/identity.ts';
import { PublishBucket, type PublishRate } from '../limits/publish-rate.ts';
import { topicOverBounds, type TopicBounds } from '../limits/topic-bounds.ts';
import { screenSubscribes, subscribedFilters } from './client-internals.ts';

export interface ClientLimitsOptions {
  readonly topics: TopicBounds;
  readonly maxSubscriptionsPerConnection: number;
  /** A SUBSCRIBE with more filters than this closes the connection; aedes does nothing of it. */
  readonly maxFiltersPerSubscribe: number;
  readonly publishRate: { readonly user: PublishRate; readonly handler: PublishRate };
  /** A connection with more than this many bytes waiting to be sent is a slow consumer, cut. */
  readonly maxOutgoingBuffer: number;
}

export interface LimitRefusal {
  readonly code: ErrorCode;
  readonly reason: string;
  /** The connection is to be closed (`cut`), not only this packet refused. */
  readonly disconnect?: true;
}

/** A SUBSCRIBE over MAX_FILTERS_PER_SUBSCRIBE cut its client (`clientId`: the CONNECT's). */
export type FiltersRefused = (client: Client, clientId: string, refusal: LimitRefusal) => void;

export class ClientLimits {
  readonly #options: ClientLimitsOptions;
  /**
   * The filters each client holds: restored with its session, granted since, minus unsubscribed. A
   * client that holds one filter (a device's `<userId>/#`) is kept as that string, without a Set.
   */
  readonly #held = new WeakMap<Client, Held>();
  readonly #buckets = new WeakMap<Client, PublishBucket>();
  /** Clients being cut: one audit line and one close each. */
  readonly #cut = new WeakSet<Client>();

  readonly #onFiltersRefused: FiltersRefused;

  constructor(options: ClientLimitsOptions, onFiltersRefused: FiltersRefused = () => undefined) {
    this.#options = options;
    this.#onFiltersRefused = onFiltersRefused;
  }

  /** A topic or filter longer, or deeper, than allowed. */
  topic(topic: string): LimitRefusal | undefined {
    const tooLong = topicOverBounds(topic, this.#options.topics);
    return tooLong === undefined ? undefined : { code: 'ERR_TOPIC_TOO_LONG', reason: tooLong };
  }

  /** A filter too long, or one more than the connection may hold (re-subscribing one it holds is not). */
  subscription(client: Client, filter: string): LimitRefusal | undefined {
    const tooLong = this.topic(filter);
    if (tooLong !== undefined) return tooLong;
    const held = this.#heldBy(client);
    const max = this.#options.maxSubscriptionsPerConnection;
    if (holds(held, filter) || countOf(held) < max) return undefined;
    return {
      code: 'ERR_TOO_MANY_SUBSCRIPTIONS',
      reason: `the connection holds MAX_SUBSCRIPTIONS_PER_CONNECTION ${max}`,
    };
  }

  /**
   * From now on, a SUBSCRIBE of the client with more than MAX_FILTERS_PER_SUBSCRIBE filters is
   * emptied before aedes handles it (no authorization, subscription or SUBACK), and the client cut;
   * `onFiltersRefused` (constructor) is called the first time, with the CONNECT's `clientId` (audit
   * it). Call from `preConnect` (client-internals.ts).
   */
  screenSubscribes(client: Client, clientId: string): void {
    screenSubscribes(client, clientId, this.#admitSubscribe);
  }

  /** One function for every client (client-internals.ts: no closure of its own per connection). */
  readonly #admitSubscribe = (client: Client, clientId: string, filterCount: number): boolean => {
    const max = this.#options.maxFiltersPerSubscribe;
    if (filterCount <= max) return true;
    if (this.cut(client))
      this.#onFiltersRefused(client, clientId, {
        code: 'ERR_TOO_MANY_FILTERS',
        reason: `a SUBSCRIBE of ${filterCount} filters, over MAX_FILTERS_PER_SUBSCRIBE ${max}; none subscribed, disconnected`,
        disconnect: true,
      });
    return false;
  };

  granted(client: Client, filter: string): void {
    const held = this.#heldBy(client);
    if (holds(held, filter)) return;
    if (typeof held === 'string') this.#held.set(client, new Set([held, filter]));
    else if (held.size === 0) this.#held.set(client, filter);
    else held.add(filter);
  }

  unsubscribed(client: Client, filters: readonly string[]): void {
    const held = this.#held.get(client);
    if (typeof held === 'string') {
      if (filters.includes(held)) this.#held.set(client, NONE);
    } else if (held !== undefined) for (const filter of filters) held.delete(filter);
  }

  /** Over the publish rate of the client's role: this PUBLISH is dropped, or the client cut. */
  publication(client: Client, role: Identity['role']): LimitRefusal | undefined {
    const now = Date.now();
    const rate = this.#options.publishRate[role];
    let bucket = this.#buckets.get(client);
    if (bucket === undefined) this.#buckets.set(client, (bucket = new PublishBucket(rate, now)));
    const verdict = bucket.admit(now);
    if (verdict === 'allow') return undefined;
    return verdict === 'drop'
      ? { code: 'ERR_PUBLISH_RATE', reason: `over ${rate.perSecond}/s; dropped` }
      : {
          code: 'ERR_PUBLISH_RATE',
          reason: `kept publishing over ${rate.perSecond}/s; disconnected`,
          disconnect: true,
        };
  }

  /**
   * A consumer that stops reading makes the broker buffer what it sends it, without bound (aedes
   * writes on, whatever the socket's backlog). Past the limit it is cut: its QoS 1 messages stay in
   * its session (queued while it is away), publishers and handlers go on serving the others.
   */
  backlog(client: Client): LimitRefusal | undefined {
    const backlog = client.conn.writableLength;
    const max = this.#options.maxOutgoingBuffer;
    if (backlog <= max) return undefined;
    return {
      code: 'ERR_SLOW_CONSUMER',
      reason: `${backlog} bytes unsent, over MAX_OUTGOING_BUFFER ${max}; disconnected`,
      disconnect: true,
    };
  }

  /** Closes the client on the next turn; true the first time only (audit it then). */
  cut(client: Client): boolean {
    if (this.#cut.has(client)) return false;
    this.#cut.add(client);
    setImmediate(() => client.close());
    return true;
  }

  #heldBy(client: Client): Held {
    const known = this.#held.get(client);
    if (known !== undefined) return known;
    const filters = subscribedFilters(client);
    const held =
      filters.length === 0 ? NONE : filters.length === 1 ? (filters[0] as string) : new Set(filters);
    this.#held.set(client, held);
    return held;
  }
}

/** One filter as itself, or a Set; none is NONE, shared by every client and never added to. */
type Held = string | Set<string>;
const NONE = new Set<string>();

function holds(held: Held, filter: string): boolean {
  return typeof held === 'string' ? held === filter : held.has(filter);
}

function countOf(held: Held): number {
  return typeof held === 'string' ? 1 : held.size;
}
