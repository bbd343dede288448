// The connected clients of this node, as the operator sees them: identity, ban subject, transport,
// since when. Follows aedes' own `client`/`clientDisconnect` pair like client-lifecycle.ts does, so
// nothing is held for a client aedes has let go. Also remembers when each user was last seen
// (bounded: the least recently seen are forgotten first).
import type { Aedes, Client } from 'aedes';
import { TLSSocket } from 'node:tls';
import type { Identity } from '../auth/identity.ts';
import { remoteAddressOf } from '../aedes/client-internals.ts';
import type { BanSubject } from './ban.ts';

export const TRANSPORTS = ['mqtts', 'wss', 'mqtt', 'ws'] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** Users whose last-seen time is remembered after their last connection closed. */
export const MAX_LAST_SEEN = 10_000;

export interface LiveClient {
  readonly client: Client;
  readonly identity: Identity;
  readonly subject: BanSubject;
  readonly transport: Transport;
  readonly connectedAt: number;
}

type Verified = Omit<LiveClient, 'connectedAt'>;

export function transportOf(client: Client): Transport {
  const socket = client.req?.socket;
  if (socket !== undefined) return socket instanceof TLSSocket ? 'wss' : 'ws';
  return client.conn instanceof TLSSocket ? 'mqtts' : 'mqtt';
}

export function subjectOf(client: Client, identity: Identity): BanSubject {
  const address = remoteAddressOf(client);
  const { jti, issuedAtSec } = identity;
  return {
    clientId: client.id,
    ...(identity.role === 'user' && { userId: identity.userId }),
    ...(address !== undefined && { address }),
    ...(jti !== undefined && { jti }),
    ...(issuedAtSec !== undefined && { issuedAtSec }),
  };
}

/**
 * A live client as held for its whole connection: what cannot be read back from the client. Its
 * transport and ban subject are derived when asked (a ban being matched, a metrics scrape, the admin
 * API), not held: ~70 B per connection (docs/memory-per-connection.md).
 */
class LiveEntry implements LiveClient {
  readonly client: Client;
  readonly identity: Identity;
  readonly connectedAt: number;

  constructor(client: Client, identity: Identity, connectedAt: number) {
    this.client = client;
    this.identity = identity;
    this.connectedAt = connectedAt;
  }

  get transport(): Transport {
    return transportOf(this.client);
  }

  /** The same as at `verified`: the client id, the identity and the peer address do not change. */
  get subject(): BanSubject {
    return subjectOf(this.client, this.identity);
  }
}

export class LiveClients {
  readonly #verified = new WeakMap<Client, Verified>();
  readonly #live = new Map<Client, LiveClient>();
  readonly #lastSeen = new Map<string, number>();

  /** From `authenticate`, once the token is verified: what the client will be known as. */
  verified(client: Client, identity: Identity): BanSubject {
    const subject = subjectOf(client, identity);
    this.#verified.set(client, { client, identity, subject, transport: transportOf(client) });
    return subject;
  }

  attach(aedes: Aedes): void {
    aedes.on('client', (client) => {
      const verified = this.#verified.get(client);
      if (verified === undefined || client.closed) return;
      // Once live, the client is held once: by #live (a spread copy kept the verified record too,
      // each with a hidden class of its own, ~300 B per connection; docs/memory-per-connection.md).
      this.#verified.delete(client);
      this.#live.set(client, new LiveEntry(client, verified.identity, Date.now()));
    });
    aedes.on('clientDisconnect', (client) => {
      const live = this.#live.get(client);
      if (live === undefined) return;
      this.#live.delete(client);
      if (live.identity.role === 'user') this.#seen(live.identity.userId, Date.now());
    });
  }

  get(client: Client): LiveClient | undefined {
    return this.#live.get(client);
  }

  get size(): number {
    return this.#live.size;
  }

  all(): IterableIterator<LiveClient> {
    return this.#live.values();
  }

  /** When the user's last connection on this node closed; undefined if never, or forgotten. */
  lastSeen(userId: string): number | undefined {
    return this.#lastSeen.get(userId);
  }

  #seen(userId: string, at: number): void {
    this.#lastSeen.delete(userId);
    this.#lastSeen.set(userId, at);
    if (this.#lastSeen.size > MAX_LAST_SEEN) {
      const oldest = this.#lastSeen.keys().next().value;
      if (oldest !== undefined) this.#lastSeen.delete(oldest);
    }
  }
}
