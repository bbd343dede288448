// One info line when a client is admitted and one when it goes: who (identity), which client id,
// over which transport, from which address, and on disconnect why and after how long. Bound to the
// client lifecycle's pairs (broker/aedes/client-lifecycle.ts), so a refused CONNECT writes no
// `connected` line (its audit line says why) and every `connected` line has its `disconnected` line.
//
// Why a connection ended, as far as the broker can tell, first match wins:
// - `broker-stopping`: the broker was closing;
// - `client-disconnect`: the client sent DISCONNECT (a clean goodbye);
// - `keepalive-timeout`: nothing arrived within 1.5 × the keepalive (aedes' `keepaliveTimeout`);
// - `token-expired`: the token had expired (the broker closes such connections);
// - `client-error`: the connection failed (`error` holds aedes' message: a protocol error, a reset);
// - `connection-closed`: the socket closed with none of the above (network gone, app killed, the
//   client id taken over by a new connection, a limit cut — a limit has its own audit line).
import { TLSSocket } from 'node:tls';
import type { Aedes, Client } from 'aedes';
import type { ClientObserver } from '../aedes/client-lifecycle.ts';
import { remoteAddressOf } from '../aedes/client-internals.ts';
import { sentDisconnect } from '../aedes/disconnect-internals.ts';
import { describeIdentity, type Identity } from '../auth/identity.ts';
import type { Logger } from './logger.ts';

export const TRANSPORTS = ['mqtts', 'wss', 'mqtt', 'ws'] as const;
export type Transport = (typeof TRANSPORTS)[number];

export const DISCONNECT_REASONS = [
  'broker-stopping',
  'client-disconnect',
  'keepalive-timeout',
  'token-expired',
  'client-error',
  'connection-closed',
] as const;
export type DisconnectReason = (typeof DISCONNECT_REASONS)[number];

interface Session {
  readonly since: number;
  readonly transport: Transport;
  readonly address: string | undefined;
}

/** The listener a client came through: WebSocket clients have their upgrade request. */
export function transportOf(client: Client): Transport {
  if (client.req !== undefined) return client.req.socket instanceof TLSSocket ? 'wss' : 'ws';
  return client.conn instanceof TLSSocket ? 'mqtts' : 'mqtt';
}

export class ConnectionLog implements ClientObserver {
  readonly #logger: Logger;
  /** Admitted clients; each entry is removed on `released`. */
  readonly #sessions = new Map<Client, Session>();
  /** What aedes said about a client before it went (keepalive timeout, error); garbage with it. */
  readonly #hints = new WeakMap<Client, { reason: DisconnectReason; error?: string }>();
  #stopping = false;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Listens to aedes' own reports of why a client is going. */
  attach(aedes: Aedes): void {
    aedes.on('keepaliveTimeout', (client) => this.#hints.set(client, { reason: 'keepalive-timeout' }));
    aedes.on('clientError', (client, error) => {
      if (!this.#hints.has(client)) this.#hints.set(client, { reason: 'client-error', error: error.message });
    });
  }

  /** The broker is closing: the disconnects from now on are its own. */
  stopping(): void {
    this.#stopping = true;
  }

  /** Connections being logged now (a bound check for tests). */
  get size(): number {
    return this.#sessions.size;
  }

  admitted(client: Client, identity: Identity): void {
    const session: Session = {
      since: Date.now(),
      transport: transportOf(client),
      address: remoteAddressOf(client),
    };
    this.#sessions.set(client, session);
    this.#logger.info(
      {
        event: 'connect',
        identity: describeIdentity(identity),
        clientId: client.id,
        transport: session.transport,
        address: session.address,
        cleanSession: client.clean,
      },
      'client connected',
    );
  }

  released(client: Client, identity: Identity): void {
    const session = this.#sessions.get(client);
    if (session === undefined) return;
    this.#sessions.delete(client);
    const now = Date.now();
    const hint = this.#hints.get(client);
    const reason: DisconnectReason = this.#stopping
      ? 'broker-stopping'
      : sentDisconnect(client)
        ? 'client-disconnect'
        : hint?.reason === 'keepalive-timeout'
          ? 'keepalive-timeout'
          : identity.expiresAt <= now
            ? 'token-expired'
            : (hint?.reason ?? 'connection-closed');
    this.#logger.info(
      {
        event: 'disconnect',
        identity: describeIdentity(identity),
        clientId: client.id,
        transport: session.transport,
        address: session.address,
        reason,
        ...(reason === 'client-error' && hint?.error !== undefined && { error: hint.error }),
        sessionMs: now - session.since,
      },
      'client disconnected',
    );
  }
}
