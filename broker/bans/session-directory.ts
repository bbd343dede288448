// Persistent sessions (clean = false) as this node has seen them: connected ones, and those whose
// client went away (aedes keeps their subscriptions and queues their QoS 1/2 messages). Node-local and
// bounded (the least recently seen are forgotten first); a session resumed with clean = true is gone.
import type { Aedes, Client } from 'aedes';
import type { Identity } from '../auth/identity.ts';
import type { LiveClients } from './live-clients.ts';

export const MAX_SESSIONS = 10_000;

export interface SessionEntry {
  readonly clientId: string;
  readonly identity: Identity;
  readonly connected: boolean;
  /** ms since the epoch: when it connected, or when it went away. */
  readonly since: number;
}

export class SessionDirectory {
  readonly #sessions = new Map<string, SessionEntry>();
  /** The client holding each connected session: a takeover's late disconnect must not mark it gone. */
  readonly #holders = new Map<string, { client: Client; identity: Identity }>();
  readonly #live: LiveClients;

  constructor(live: LiveClients) {
    this.#live = live;
  }

  /** Call after LiveClients.attach: its entry for a client exists when these listeners run. */
  attach(aedes: Aedes): void {
    aedes.on('client', (client) => {
      const identity = this.#live.get(client)?.identity;
      this.#holders.delete(client.id);
      if (identity === undefined) return;
      if (!client.clean) this.#holders.set(client.id, { client, identity });
      this.#record(
        client.id,
        client.clean ? undefined : { clientId: client.id, identity, connected: true, since: Date.now() },
      );
    });
    aedes.on('clientDisconnect', (client) => {
      const holder = this.#holders.get(client.id);
      if (holder?.client !== client) return;
      this.#holders.delete(client.id);
      this.#record(client.id, {
        clientId: client.id,
        identity: holder.identity,
        connected: false,
        since: Date.now(),
      });
    });
  }

  all(): IterableIterator<SessionEntry> {
    return this.#sessions.values();
  }

  #record(clientId: string, entry: SessionEntry | undefined): void {
    this.#sessions.delete(clientId);
    if (entry === undefined) return;
    this.#sessions.set(clientId, entry);
    if (this.#sessions.size > MAX_SESSIONS) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest !== undefined) this.#sessions.delete(oldest);
    }
  }
}
