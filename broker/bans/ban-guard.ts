// Bans, revocations and kicks, enforced: at CONNECT (`admit`, called by the adapter once the token
// is verified) and on live connections of every node (AdminBus), kept across restarts in the store
// when clustered. Bounded: at most `maxBans` entries in force; expired ones are swept every second.
import type { Aedes, Client } from 'aedes';
import { CashewError } from '../../protocol/index.ts';
import { describeIdentity, type Identity } from '../auth/identity.ts';
import { auditRefusal, type Refusal } from '../log/audit.ts';
import type { Logger } from '../log/logger.ts';
import { AdminBus, type AdminMessage, type KickTarget } from './admin-bus.ts';
import { banApplies, banCodeOf, banKey, describeBan, type Ban, type BanKind } from './ban.ts';
import { BanList } from './ban-list.ts';
import type { BanStore } from './ban-store.ts';
import type { LiveClient, LiveClients } from './live-clients.ts';

export const BAN_SWEEP_MS = 1000;

export interface BanGuardOptions {
  readonly logger: Logger;
  readonly store: BanStore;
  readonly live: LiveClients;
  readonly maxBans: number;
}

export class BanGuard {
  readonly #list = new BanList();
  readonly #logger: Logger;
  readonly #store: BanStore;
  readonly #live: LiveClients;
  readonly #maxBans: number;
  #bus: AdminBus | undefined;
  #sweep: NodeJS.Timeout | undefined;

  constructor(options: BanGuardOptions) {
    this.#logger = options.logger;
    this.#store = options.store;
    this.#live = options.live;
    this.#maxBans = options.maxBans;
  }

  /** Loads the stored bans, listens to the other nodes, starts the expiry sweep. */
  async start(aedes: Aedes): Promise<void> {
    await this.reload();
    this.#bus = new AdminBus(aedes, (message) => this.#apply(message));
    // A client that passed `admit` just before a ban arrived, and that aedes registers just after it
    // was enforced, is caught here (LiveClients registered it first: it listened first).
    aedes.on('client', (client) => {
      const live = this.#live.get(client);
      const ban = live === undefined ? undefined : this.#list.match(live.subject, Date.now());
      if (ban !== undefined) this.#enforce(ban);
    });
    this.#sweep = setInterval(() => this.#expire(), BAN_SWEEP_MS);
    this.#sweep.unref();
  }

  /** Replaces the bans in force with the store's (at start, and when Redis is back after an outage). */
  async reload(): Promise<void> {
    const now = Date.now();
    const stored = (await this.#store.load()).filter((ban) => ban.expiresAt > now);
    for (const ban of this.#list.list(now)) this.#list.remove(banKey(ban.kind, ban.value));
    for (const ban of stored.slice(0, this.#maxBans)) this.#list.put(ban);
    for (const ban of stored) this.#enforce(ban);
  }

  close(): Promise<void> {
    clearInterval(this.#sweep);
    return this.#store.close();
  }

  /** At CONNECT, once the token is verified: throws ERR_BANNED / ERR_TOKEN_REVOKED when a ban applies. */
  admit(client: Client, identity: Identity): void {
    const subject = this.#live.verified(client, identity);
    const ban = this.#list.match(subject, Date.now());
    if (ban !== undefined) throw new CashewError(banCodeOf(ban), describeBan(ban));
  }

  list(): Ban[] {
    return this.#list.list(Date.now());
  }

  /** Adds (or replaces) a ban on every node; returns how many connections it closed on this node. */
  async ban(ban: Ban): Promise<number> {
    const key = banKey(ban.kind, ban.value);
    this.#list.prune(Date.now());
    if (!this.#list.has(key) && this.#list.size >= this.#maxBans)
      throw new CashewError('ERR_TOO_MANY_BANS', `${this.#maxBans} bans are in force (BANS_MAX)`);
    await this.#store.save(ban);
    this.#list.put(ban);
    const closed = this.#enforce(ban);
    await this.#bus?.publish({ op: 'ban', ban });
    return closed;
  }

  /** Removes a ban on every node; returns it, or undefined when there was none in force. */
  async unban(kind: BanKind, value: string): Promise<Ban | undefined> {
    const key = banKey(kind, value);
    const ban = this.#list.remove(key);
    await this.#store.delete([key]);
    await this.#bus?.publish({ op: 'unban', keys: [key] });
    return ban !== undefined && ban.expiresAt > Date.now() ? ban : undefined;
  }

  /** Closes a client id, or every connection of a user, on every node; returns how many here. */
  async kick(target: KickTarget): Promise<number> {
    const closed = this.#kickHere(target);
    await this.#bus?.publish({ op: 'kick', target });
    return closed;
  }

  #apply(message: AdminMessage): void {
    switch (message.op) {
      case 'ban':
        this.#list.put(message.ban);
        this.#enforce(message.ban);
        return;
      case 'unban':
        for (const key of message.keys) this.#list.remove(key);
        return;
      case 'kick':
        this.#kickHere(message.target);
        return;
    }
  }

  #enforce(ban: Ban): number {
    return this.#close(
      (live) => banApplies(ban, live.subject),
      () => ({ action: 'ban', code: banCodeOf(ban), reason: describeBan(ban) }),
    );
  }

  #kickHere(target: KickTarget): number {
    return this.#close(
      ({ subject }) =>
        (target.clientId !== undefined && subject.clientId === target.clientId) ||
        (target.userId !== undefined && subject.userId === target.userId),
      () => ({ action: 'kick', code: 'ERR_KICKED', reason: 'closed by an operator' }),
    );
  }

  #close(
    matches: (live: LiveClient) => boolean,
    why: () => Pick<Refusal, 'action' | 'code' | 'reason'>,
  ): number {
    let closed = 0;
    for (const live of [...this.#live.all()]) {
      if (live.client.closed || !matches(live)) continue;
      const { clientId, address } = live.subject;
      auditRefusal(this.#logger, {
        ...why(),
        identity: describeIdentity(live.identity),
        clientId,
        ...(address !== undefined && { address }),
      });
      live.client.close();
      closed += 1;
    }
    return closed;
  }

  #expire(): void {
    const expired = this.#list.prune(Date.now());
    if (expired.length === 0) return;
    this.#store.delete(expired.map((ban) => banKey(ban.kind, ban.value))).catch((error: unknown) => {
      // Loads skip expired entries anyway; the next expiry sweep tries again for new ones only.
      this.#logger.warn({ err: String(error) }, 'expired bans not removed from the store');
    });
  }
}
