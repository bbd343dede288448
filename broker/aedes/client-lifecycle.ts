// What Cashew holds per connected client, bound to aedes' own client events (aedes 1.2.0,
// lib/handlers/connect.js and aedes.js):
//
// - `authenticate` may take seconds (a JWKS fetch). A client whose socket closes meanwhile is dropped
//   by aedes without any event: its answer is ignored (connect.js, `negate` returns when
//   `client.closed`), it is never registered, `clientDisconnect` never fires for it. So the verified
//   identity is only remembered in a WeakMap keyed by the client: nothing to undo, nothing to leak.
// - `client` fires when aedes registers the client (registerClient, after its session is restored,
//   before CONNACK). From then on, closing it emits `clientDisconnect` (client.js, `close`). What must
//   be undone — the handler pool membership, the token expiry timer that holds the client — is
//   created on `client` and undone on `clientDisconnect`, a pair aedes keeps.
// - aedes can register a client that closed while its session was being restored (Redis): `client`
//   then fires for a closed client, and no `clientDisconnect` follows. Such a client is not admitted.
// - A WebSocket client that goes away during `authenticate` is not noticed (aedes stops reading while
//   it authenticates, and the stream ends only when read): it is registered, then unregistered as soon
//   as the CONNACK cannot be written — `client`, then `clientDisconnect`.
// The events are pinned by test/unit/aedes-boundary/client-events.test.ts; the whole by
// test/integration/lifecycle.test.ts.
import type { Aedes, Client } from 'aedes';
import type { Identity } from '../auth/identity.ts';
import type { ConnectGate } from '../limits/connect-gate.ts';
import type { HandlerPools } from '../pools/handler-pools.ts';
import { ExpiryWheel } from './expiry-wheel.ts';

/** What is registered right now (for metrics and tests). */
export interface Registrations {
  /** Clients admitted by aedes and not disconnected yet. */
  readonly clients: number;
  /** Token expiries scheduled (entries of the expiry wheel). */
  readonly expiryTimers: number;
  /** Members of handler pools, all pools together. */
  readonly poolMembers: number;
}

/**
 * Told of each admitted client and of its release, in pairs (presence, the connection log): what an
 * observer holds for a client it frees on `released`.
 */
export interface ClientObserver {
  admitted(client: Client, identity: Identity): void;
  released(client: Client, identity: Identity): void;
}

export interface ClientLifecycleOptions {
  readonly pools: HandlerPools;
  /** Counts admitted connections, in total and per user (broker/limits/connect-gate.ts). */
  readonly gate: ConnectGate;
  /** Called when an admitted client's token expires; expected to close the client. */
  readonly onExpired: (client: Client, identity: Identity) => void;
  readonly observers?: readonly ClientObserver[];
}

export class ClientLifecycle {
  readonly #pools: HandlerPools;
  readonly #gate: ConnectGate;
  readonly #onExpired: (client: Client, identity: Identity) => void;
  readonly #observers: readonly ClientObserver[];
  /**
   * Verified identities of clients not admitted yet, from `authenticate` on: held only as long as
   * aedes holds the client. On admission the identity moves to #admitted (one entry per client).
   */
  readonly #verified = new WeakMap<Client, Identity>();
  /** Admitted clients and their current identity; every entry is removed on `clientDisconnect`. */
  readonly #admitted = new Map<Client, Identity>();
  /** The token expiry of every admitted client. */
  readonly #expiries = new ExpiryWheel<Client>((client) => this.#due(client));

  constructor(options: ClientLifecycleOptions) {
    this.#pools = options.pools;
    this.#gate = options.gate;
    this.#onExpired = options.onExpired;
    this.#observers = options.observers ?? [];
  }

  /** Wires the lifecycle to aedes' `client` and `clientDisconnect` events. */
  attach(aedes: Aedes): void {
    aedes.on('client', (client) => this.admit(client));
    aedes.on('clientDisconnect', (client) => this.release(client));
  }

  /** Remembers the identity a client's token proved (from `authenticate`). */
  verified(client: Client, identity: Identity): void {
    this.#verified.set(client, identity);
  }

  identityOf(client: Client): Identity | undefined {
    return this.#admitted.get(client) ?? this.#verified.get(client);
  }

  /**
   * The client proved the same identity with a new token (broker/aedes/token-refresh.ts): the identity
   * is swapped and its expiry re-armed. False when the client is gone (or never admitted).
   */
  refreshed(client: Client, identity: Identity): boolean {
    if (!this.#admitted.has(client) || client.closed) return false;
    this.#admitted.set(client, identity);
    this.#expiries.reschedule(client, identity.expiresAt);
    return true;
  }

  /** aedes registered the client: it joins its handler pool and its token expiry is armed. */
  admit(client: Client): void {
    const identity = this.#verified.get(client);
    if (identity === undefined || client.closed || this.#admitted.has(client)) return;
    this.#verified.delete(client);
    this.#admitted.set(client, identity);
    this.#expiries.schedule(client, identity.expiresAt);
    this.#gate.opened(identity.role === 'user' ? identity.userId : undefined);
    if (identity.role === 'handler') this.#pools.join(identity.name, client);
    for (const observer of this.#observers) observer.admitted(client, identity);
  }

  /** aedes unregistered the client: everything `admit` registered is undone. */
  release(client: Client): void {
    const identity = this.#admitted.get(client);
    this.#verified.delete(client);
    if (!this.#admitted.delete(client)) return;
    this.#expiries.cancel(client);
    this.#gate.closed(identity?.role === 'user' ? identity.userId : undefined);
    if (identity?.role === 'handler') this.#pools.leave(identity.name, client);
    if (identity !== undefined) for (const observer of this.#observers) observer.released(client, identity);
  }

  registrations(): Registrations {
    return {
      clients: this.#admitted.size,
      expiryTimers: this.#expiries.size,
      poolMembers: this.#pools.memberCount(),
    };
  }

  /** The wheel says the client's expiry passed: close it, unless its token was replaced since. */
  #due(client: Client): void {
    const identity = this.#admitted.get(client);
    if (identity === undefined) return;
    if (identity.expiresAt > Date.now()) return this.#expiries.schedule(client, identity.expiresAt);
    this.#onExpired(client, identity);
  }
}
