// The bans in force on this node, in memory: lookups by exact key for users, client ids and jtis,
// a short scan of subnets for addresses. Bounded (BANS_MAX); expired entries are pruned on every
// change and by a sweep (ban-guard.ts), and never match meanwhile.
import type ipaddr from 'ipaddr.js';
import {
  banApplies,
  banKey,
  inSubnet,
  parseAddress,
  parseSubnet,
  type Ban,
  type BanSubject,
  type Subnet,
} from './ban.ts';

export class BanList {
  readonly #bans = new Map<string, Ban>();
  readonly #subnets = new Map<string, Subnet>();

  get size(): number {
    return this.#bans.size;
  }

  has(key: string): boolean {
    return this.#bans.has(key);
  }

  /** Adds or replaces an entry. */
  put(ban: Ban): void {
    const key = banKey(ban.kind, ban.value);
    this.#bans.set(key, ban);
    if (ban.kind === 'address') {
      const subnet = parseSubnet(ban.value);
      if (subnet !== undefined) this.#subnets.set(key, subnet);
    }
  }

  remove(key: string): Ban | undefined {
    const ban = this.#bans.get(key);
    this.#bans.delete(key);
    this.#subnets.delete(key);
    return ban;
  }

  /** Forgets expired entries; returns them. */
  prune(now: number): Ban[] {
    const expired: Ban[] = [];
    for (const [key, ban] of this.#bans) {
      if (ban.expiresAt > now) continue;
      expired.push(ban);
      this.remove(key);
    }
    return expired;
  }

  list(now: number): Ban[] {
    return [...this.#bans.values()].filter((ban) => ban.expiresAt > now);
  }

  /** The first entry in force that applies to `subject`, or undefined. */
  match(subject: BanSubject, now: number): Ban | undefined {
    if (this.#bans.size === 0) return undefined;
    const keyed = [
      subject.userId === undefined ? undefined : banKey('user', subject.userId),
      subject.userId === undefined ? undefined : banKey('issuedBefore', subject.userId),
      banKey('clientId', subject.clientId),
      subject.jti === undefined ? undefined : banKey('jti', subject.jti),
    ];
    for (const key of keyed) {
      const ban = key === undefined ? undefined : this.#bans.get(key);
      if (ban !== undefined && ban.expiresAt > now && banApplies(ban, subject)) return ban;
    }
    if (this.#subnets.size === 0 || subject.address === undefined) return undefined;
    const address: ipaddr.IPv4 | ipaddr.IPv6 | undefined = parseAddress(subject.address);
    if (address === undefined) return undefined;
    for (const [key, subnet] of this.#subnets) {
      const ban = this.#bans.get(key);
      if (ban !== undefined && ban.expiresAt > now && inSubnet(address, subnet)) return ban;
    }
    return undefined;
  }
}
