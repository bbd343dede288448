// Session expiry: MQTT 3.1.1 keeps a persistent session (clean=false) for ever, with everything queued
// for it, and every run of an app that picks a new client id leaves one more behind. Cashew removes a
// session whose client has been away for SESSION_EXPIRY_MS (EMQX's session expiry does the same).
//
// When a persistent session's client comes and goes follows aedes' own `client` / `clientDisconnect`
// events (client-lifecycle.ts explains their order). A takeover on the same node closes the old
// client before the new one registers, so "away" is always followed by "back". Where the sessions are
// shared (Redis), a takeover from another node closes the old client after the new one registered:
// the store then keeps the session present (redis-away-sessions.ts).
import type { Aedes, Client } from 'aedes';
import type { Logger } from '../log/logger.ts';
import { auditRefusal } from '../log/audit.ts';
import { ownerOfClientId } from '../policy/policy.ts';

/** Where the time each persistent session's client left is kept: this process, or Redis. */
export interface AwaySessions {
  /**
   * The session's client connected (to this node). Resolves with the sessions of the same user to
   * remove because the user now holds more than `maxPerUser` (the longest away first; never one
   * whose client is connected).
   */
  back(clientId: string, maxPerUser: number): Promise<string[]>;
  /** The session's client left (this node's connection to it closed) at `at`. */
  away(clientId: string, at: number): Promise<void>;
  /** Takes up to `max` sessions away since before `cutoff`; each is taken by one node only. */
  takeExpired(cutoff: number, max: number): Promise<string[]>;
}

/** What removing a session takes from the persistence (its subscriptions and, with them, its queue). */
export interface SessionRemoval {
  cleanSubscriptions(client: { id: string }): Promise<unknown>;
}

/** Sessions removed per sweep at most; the next sweep goes on. */
const SWEEP_BATCH = 500;
const MIN_SWEEP_MS = 1000;
const MAX_SWEEP_MS = 60_000;
/** In a user's index: the session's client is connected. */
const PRESENT = Number.POSITIVE_INFINITY;

/** Sessions away, kept by this process (the embedded broker). */
export class LocalAwaySessions implements AwaySessions {
  /** Client id → when it left; insertion order is leaving order, as `away` re-inserts. */
  readonly #since = new Map<string, number>();
  /** User id → that user's sessions: client id → when its client left, or PRESENT. */
  readonly #byUser = new Map<string, Map<string, number>>();

  /** Sessions known (away or present). */
  get size(): number {
    let sessions = 0;
    for (const user of this.#byUser.values()) sessions += user.size;
    return sessions;
  }

  back(clientId: string, maxPerUser: number): Promise<string[]> {
    this.#since.delete(clientId);
    const sessions = this.#sessionsOf(clientId);
    if (sessions === undefined) return Promise.resolve([]);
    sessions.set(clientId, PRESENT);
    const over = sessions.size - maxPerUser;
    if (over <= 0) return Promise.resolve([]);
    const evicted = [...sessions]
      .filter(([, since]) => since !== PRESENT)
      .sort(([, a], [, b]) => a - b)
      .slice(0, over)
      .map(([id]) => id);
    for (const id of evicted) this.#forget(id);
    return Promise.resolve(evicted);
  }

  away(clientId: string, at: number): Promise<void> {
    this.#since.delete(clientId);
    this.#since.set(clientId, at);
    this.#sessionsOf(clientId)?.set(clientId, at);
    return Promise.resolve();
  }

  takeExpired(cutoff: number, max: number): Promise<string[]> {
    const taken: string[] = [];
    for (const [clientId, since] of this.#since) {
      if (since > cutoff || taken.length >= max) break;
      this.#forget(clientId);
      taken.push(clientId);
    }
    return Promise.resolve(taken);
  }

  #sessionsOf(clientId: string): Map<string, number> | undefined {
    const userId = ownerOfClientId(clientId);
    if (userId === undefined) return undefined;
    let sessions = this.#byUser.get(userId);
    if (sessions === undefined) this.#byUser.set(userId, (sessions = new Map<string, number>()));
    return sessions;
  }

  #forget(clientId: string): void {
    this.#since.delete(clientId);
    const userId = ownerOfClientId(clientId);
    const sessions = userId === undefined ? undefined : this.#byUser.get(userId);
    sessions?.delete(clientId);
    if (userId !== undefined && sessions?.size === 0) this.#byUser.delete(userId);
  }
}

export interface SessionExpiryOptions {
  readonly expiryMs: number;
  /** Persistent sessions one user may hold (`MAX_SESSIONS_PER_USER`); past it the longest away goes. */
  readonly maxPerUser: number;
  readonly away: AwaySessions;
  readonly persistence: SessionRemoval;
  readonly logger: Logger;
}

export class SessionExpiry {
  readonly #options: SessionExpiryOptions;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;
  #expired = 0;

  constructor(options: SessionExpiryOptions) {
    this.#options = options;
  }

  /** Sessions removed since start. */
  get expired(): number {
    return this.#expired;
  }

  attach(aedes: Aedes): void {
    const { away } = this.#options;
    aedes.on('client', (client) => {
      if (!client.clean)
        this.#recorded(
          client,
          away.back(client.id, this.#options.maxPerUser).then((over) => this.#evict(over)),
        );
    });
    aedes.on('clientDisconnect', (client) => {
      if (!client.clean) this.#recorded(client, away.away(client.id, Date.now()));
    });
    // A quarter of the expiry, within 1 s–60 s: a session lives at most that much past its expiry.
    const every = Math.min(MAX_SWEEP_MS, Math.max(MIN_SWEEP_MS, Math.floor(this.#options.expiryMs / 4)));
    this.#timer = setInterval(() => void this.sweep(), every);
    this.#timer.unref();
  }

  /** Removes the sessions away for longer than the expiry (one sweep at a time). */
  sweep(now = Date.now()): Promise<void> {
    this.#sweeping ??= this.#sweep(now).finally(() => (this.#sweeping = undefined));
    return this.#sweeping;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#sweeping;
  }

  /** Sessions of a user past MAX_SESSIONS_PER_USER: removed, the longest away first. */
  async #evict(clientIds: readonly string[]): Promise<void> {
    const reason = `its user holds more than MAX_SESSIONS_PER_USER ${this.#options.maxPerUser}; the session away longest was removed`;
    for (const clientId of clientIds) await this.#remove(clientId, 'ERR_TOO_MANY_SESSIONS', reason);
  }

  /** Removes one session (subscriptions, and with them its queue), audited. */
  async #remove(clientId: string, code: 'ERR_TOO_MANY_SESSIONS' | 'ERR_SESSION_EXPIRED', reason: string) {
    await this.#options.persistence.cleanSubscriptions({ id: clientId });
    this.#expired++;
    auditRefusal(this.#options.logger, { action: 'session', identity: 'session', clientId, code, reason });
  }

  async #sweep(now: number): Promise<void> {
    const { away, logger, expiryMs } = this.#options;
    try {
      const expired = await away.takeExpired(now - expiryMs, SWEEP_BATCH);
      const reason = `no client for SESSION_EXPIRY_MS ${expiryMs}; session and queue removed`;
      for (const clientId of expired) await this.#remove(clientId, 'ERR_SESSION_EXPIRED', reason);
    } catch (error) {
      logger.warn({ err: error }, 'session expiry sweep failed; the next sweep tries again');
    }
  }

  #recorded(client: Client, change: Promise<void>): void {
    change.catch((error: unknown) =>
      this.#options.logger.warn({ err: error, clientId: client.id }, 'session presence not recorded'),
    );
  }
}
