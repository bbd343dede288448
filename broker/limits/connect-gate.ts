// Who may try to connect, decided before any token signature is checked (the source address' connect
// rate, the client id's flapping, the total number of connections) and once the identity is known
// (connections per user). Plain data and a clock, no sockets: the adapter turns a refusal into
// CONNACK 3 (server unavailable: "try again later", which clients back off from) and an audit line.
//
// A token bucket per address and a sliding count per client id, written here rather than taken from
// a rate-limiting library: both must cost a few property reads per CONNECT, never hold a timer per
// key, and stay bounded under a flood of distinct keys (the least recently seen key is forgotten
// beyond `maxTrackedKeys`). docs/configuration.md gives the sizing.
import type { ErrorCode } from '../../protocol/index.ts';

export interface ConnectLimits {
  /** Sustained CONNECTs per second from one source address (`CONNECT_RATE_PER_ADDRESS`). */
  readonly connectRatePerAddress: number;
  /** CONNECTs one address may send at once before the rate applies (`CONNECT_BURST_PER_ADDRESS`). */
  readonly connectBurstPerAddress: number;
  /** Connections held at once, all users and handlers (`MAX_CONNECTIONS`). */
  readonly maxConnections: number;
  /** Connections one user may hold at once, over all its devices (`MAX_CONNECTIONS_PER_USER`). */
  readonly maxConnectionsPerUser: number;
  /** A client id connecting more often than this within `flappingWindowMs` is flapping (`FLAPPING_MAX_CONNECTS`). */
  readonly flappingMaxConnects: number;
  readonly flappingWindowMs: number;
  /** How long a flapping client id is refused (`FLAPPING_BAN_MS`). */
  readonly flappingBanMs: number;
}

export interface GateRefusal {
  readonly code: Extract<ErrorCode, 'ERR_CONNECT_RATE' | 'ERR_TOO_MANY_CONNECTIONS' | 'ERR_FLAPPING'>;
  readonly reason: string;
}

/** Keys (addresses, client ids) remembered at most; a flood of new keys forgets the oldest. */
export const DEFAULT_MAX_TRACKED_KEYS = 100_000;

interface Bucket {
  tokens: number;
  at: number;
}

interface Flaps {
  windowStart: number;
  count: number;
  bannedUntil: number;
}

/** A Map that forgets its least recently used key beyond `max`. */
class RecentMap<V> {
  readonly #entries = new Map<string, V>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get(key: string): V | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}

/** Each user's connections on the other nodes of a cluster. */
export interface SharedUserConnections {
  /** Connections `userId` holds on the other nodes now. */
  elsewhere(userId: string): Promise<number>;
  opened(userId: string): void;
  closed(userId: string): void;
}

export class ConnectGate {
  readonly #limits: ConnectLimits;
  #shared: SharedUserConnections | undefined;
  readonly #buckets: RecentMap<Bucket>;
  readonly #flaps: RecentMap<Flaps>;
  readonly #perUser = new Map<string, number>();
  #connections = 0;

  constructor(limits: ConnectLimits, maxTrackedKeys = DEFAULT_MAX_TRACKED_KEYS) {
    this.#limits = limits;
    this.#buckets = new RecentMap(maxTrackedKeys);
    this.#flaps = new RecentMap(maxTrackedKeys);
  }

  /** Checked first, before the token: refuses a CONNECT the broker should not spend a signature on. */
  admitConnect(address: string | undefined, clientId: string, now: number): GateRefusal | undefined {
    const limits = this.#limits;
    if (this.#connections >= limits.maxConnections)
      return { code: 'ERR_TOO_MANY_CONNECTIONS', reason: `MAX_CONNECTIONS ${limits.maxConnections} reached` };
    if (address !== undefined) {
      let bucket = this.#buckets.get(address);
      if (bucket === undefined) {
        bucket = { tokens: limits.connectBurstPerAddress, at: now };
        this.#buckets.set(address, bucket);
      }
      bucket.tokens = Math.min(
        limits.connectBurstPerAddress,
        bucket.tokens + ((now - bucket.at) / 1000) * limits.connectRatePerAddress,
      );
      bucket.at = now;
      if (bucket.tokens < 1)
        return {
          code: 'ERR_CONNECT_RATE',
          reason: `more than CONNECT_RATE_PER_ADDRESS ${limits.connectRatePerAddress}/s from this address`,
        };
      bucket.tokens -= 1;
    }
    let flaps = this.#flaps.get(clientId);
    if (flaps === undefined) {
      flaps = { windowStart: now, count: 0, bannedUntil: 0 };
      this.#flaps.set(clientId, flaps);
    }
    if (now < flaps.bannedUntil)
      return {
        code: 'ERR_FLAPPING',
        reason: `client id flapping; refused until ${new Date(flaps.bannedUntil).toISOString()}`,
      };
    // A new window after the last one, or once a ban is served.
    if (now - flaps.windowStart > limits.flappingWindowMs || flaps.bannedUntil !== 0) {
      flaps.bannedUntil = 0;
      flaps.windowStart = now;
      flaps.count = 0;
    }
    flaps.count += 1;
    if (flaps.count > limits.flappingMaxConnects) {
      flaps.bannedUntil = now + limits.flappingBanMs;
      return {
        code: 'ERR_FLAPPING',
        reason: `${flaps.count} connects within FLAPPING_WINDOW_MS ${limits.flappingWindowMs}; refused for FLAPPING_BAN_MS ${limits.flappingBanMs}`,
      };
    }
    return undefined;
  }

  /**
   * Once the identity is verified: a user's devices share `maxConnectionsPerUser`, over every node
   * when the nodes share their counts (broker/cluster/redis-user-connections.ts).
   */
  async admitUser(userId: string): Promise<GateRefusal | undefined> {
    const max = this.#limits.maxConnectionsPerUser;
    const here = this.#perUser.get(userId) ?? 0;
    const held =
      here >= max || this.#shared === undefined ? here : here + (await this.#shared.elsewhere(userId));
    if (held >= max)
      return {
        code: 'ERR_TOO_MANY_CONNECTIONS',
        reason: `user holds MAX_CONNECTIONS_PER_USER ${this.#limits.maxConnectionsPerUser} connections`,
      };
    return undefined;
  }

  /** Counts each user's connections over the cluster from now on (call before any client connects). */
  shareUserConnections(shared: SharedUserConnections): void {
    this.#shared = shared;
  }

  /** A client was accepted (call once per client; `userId` undefined for handlers). */
  opened(userId: string | undefined): void {
    this.#connections += 1;
    if (userId === undefined) return;
    this.#perUser.set(userId, (this.#perUser.get(userId) ?? 0) + 1);
    this.#shared?.opened(userId);
  }

  /** An accepted client is gone. */
  closed(userId: string | undefined): void {
    this.#connections = Math.max(0, this.#connections - 1);
    if (userId === undefined) return;
    this.#shared?.closed(userId);
    const held = (this.#perUser.get(userId) ?? 1) - 1;
    if (held <= 0) this.#perUser.delete(userId);
    else this.#perUser.set(userId, held);
  }

  /** What the gate holds (tests, metrics): connections, users with connections, tracked keys. */
  get counts(): { connections: number; users: number; addresses: number; clientIds: number } {
    return {
      connections: this.#connections,
      users: this.#perUser.size,
      addresses: this.#buckets.size,
      clientIds: this.#flaps.size,
    };
  }
}
