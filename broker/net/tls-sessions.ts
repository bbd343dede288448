// TLS session resumption for reconnecting devices. A device that kept its TLS session (a TLS 1.3
// ticket, or a TLS 1.2 session ticket) resumes without a certificate signature or key exchange on the
// server's side — when the server can decrypt the ticket. Node encrypts tickets with 48 bytes of
// ticket keys, random per process by default: a ticket only resumes on the node that issued it, and
// not after a restart. With `TLS_TICKET_SECRET` every node derives the same key from the secret and
// the current rotation period (HKDF-SHA256), so a device resumes on any node, and the key changes
// every `TLS_TICKET_ROTATION_SEC` on every node at once without any coordination but the clock.
// Node takes one ticket key at a time: a ticket issued before a rotation gets a full handshake after
// it (once per device per rotation). Settings are resolved here, from options.ts, like the limits.
import { hkdfSync } from 'node:crypto';
import type { Server as TlsServer } from 'node:tls';
import { CashewError } from '../../protocol/index.ts';
import { wholeSetting } from '../whole-setting.ts';

export const TLS_SESSION_SETTINGS = [
  'TLS_TICKET_SECRET',
  'TLS_TICKET_ROTATION_SEC',
  'TLS_SESSION_TIMEOUT_SEC',
] as const;
type TlsSessionSetting = (typeof TLS_SESSION_SETTINGS)[number];

/** A day: short enough that a leaked key opens little, long enough that devices rarely miss. */
export const DEFAULT_TICKET_ROTATION_SEC = 86_400;
/** How long a session may be resumed. Node's and OpenSSL's default is 300 s; a fleet back from a
 * network outage of up to an hour still resumes. */
export const DEFAULT_SESSION_TIMEOUT_SEC = 3_600;
const TICKET_KEYS_BYTES = 48;
const MIN_SECRET_LENGTH = 32;

export interface TlsSessionOptions {
  /** Shared secret the ticket keys derive from (`TLS_TICKET_SECRET`); per-process keys when absent. */
  readonly ticketSecret?: string;
  /** The ticket key changes every this many seconds (`TLS_TICKET_ROTATION_SEC`, default 86400). */
  readonly ticketRotationSec: number;
  /** Ticket and session lifetime, seconds (`TLS_SESSION_TIMEOUT_SEC`, default 3600). */
  readonly sessionTimeoutSec: number;
}

function wholeSeconds(
  settings: Partial<Record<TlsSessionSetting, string>>,
  name: TlsSessionSetting,
  fallback: number,
  min: number,
  max: number,
): number {
  return wholeSetting(settings[name], name, fallback, min, max);
}

export function resolveTlsSessions(settings: Partial<Record<TlsSessionSetting, string>>): TlsSessionOptions {
  const secret = settings.TLS_TICKET_SECRET?.trim();
  if (secret !== undefined && secret !== '' && secret.length < MIN_SECRET_LENGTH)
    throw new CashewError(
      'ERR_CONFIG_INVALID',
      `TLS_TICKET_SECRET=<hidden> is invalid: expected a secret of at least ${MIN_SECRET_LENGTH} characters`,
    );
  return {
    ...(secret !== undefined && secret !== '' && { ticketSecret: secret }),
    ticketRotationSec: wholeSeconds(
      settings,
      'TLS_TICKET_ROTATION_SEC',
      DEFAULT_TICKET_ROTATION_SEC,
      60,
      604_800,
    ),
    sessionTimeoutSec: wholeSeconds(
      settings,
      'TLS_SESSION_TIMEOUT_SEC',
      DEFAULT_SESSION_TIMEOUT_SEC,
      0,
      604_800,
    ),
  };
}

/** The ticket keys of one rotation period: the same on every node that has the same secret. */
export function ticketKeysFor(secret: string, period: number): Buffer {
  return Buffer.from(
    hkdfSync('sha256', secret, 'cashew tls session tickets', `period ${period}`, TICKET_KEYS_BYTES),
  );
}

/** Ticket keys shared by every node with the same secret, rotated on every listener at once. */
export class SharedTicketKeys {
  readonly #secret: string;
  readonly #rotationMs: number;
  readonly #servers = new Set<TlsServer>();
  #period: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(secret: string, rotationSec: number) {
    this.#secret = secret;
    this.#rotationMs = rotationSec * 1000;
    this.#period = Math.floor(Date.now() / this.#rotationMs);
  }

  /** The current keys, for a server's `ticketKeys` option. */
  current(): Buffer {
    return ticketKeysFor(this.#secret, this.#period);
  }

  /** Sets the current keys on the server now and at every rotation. */
  attach(server: TlsServer): void {
    server.setTicketKeys(this.current());
    this.#servers.add(server);
    this.#timer ??= this.#schedule();
  }

  close(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#servers.clear();
  }

  #schedule(): NodeJS.Timeout {
    const next = (this.#period + 1) * this.#rotationMs;
    const timer = setTimeout(() => this.#rotate(), Math.max(next - Date.now(), 0));
    timer.unref();
    return timer;
  }

  #rotate(): void {
    this.#period = Math.floor(Date.now() / this.#rotationMs);
    const keys = this.current();
    for (const server of this.#servers) server.setTicketKeys(keys);
    this.#timer = this.#schedule();
  }
}

/** What the TLS and WSS listeners apply: session lifetime, and shared keys when a secret is set. */
export interface TlsResumption {
  readonly timeoutSec: number;
  readonly tickets?: SharedTicketKeys;
}

export function tlsResumption(options: TlsSessionOptions): TlsResumption {
  return {
    timeoutSec: options.sessionTimeoutSec,
    ...(options.ticketSecret !== undefined && {
      tickets: new SharedTicketKeys(options.ticketSecret, options.ticketRotationSec),
    }),
  };
}
