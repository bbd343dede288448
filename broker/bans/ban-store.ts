// Where bans outlive a node: nowhere on a single in-memory node (a restart forgets them, as it
// forgets sessions), a Redis hash when clustered, so every node — and a node that restarts — loads
// them at start. Changes reach the live nodes through the broker's emitter (ban-guard.ts), not here.
import type { Redis } from 'ioredis';
import { isRecord } from '../../protocol/index.ts';
import { closeRedis } from '../cluster/redis-connection.ts';
import { BAN_KINDS, banKey, invalidBanValue, type Ban, type BanKind } from './ban.ts';

export interface BanStore {
  load(): Promise<Ban[]>;
  save(ban: Ban): Promise<void>;
  delete(keys: readonly string[]): Promise<void>;
  /** Whether the store can be written now (for /readyz). */
  ready(): boolean;
  close(): Promise<void>;
}

export const BANS_REDIS_KEY = 'cashew:bans';

export function memoryBanStore(): BanStore {
  return {
    load: () => Promise.resolve([]),
    save: () => Promise.resolve(),
    delete: () => Promise.resolve(),
    ready: () => true,
    close: () => Promise.resolve(),
  };
}

/** A ban read back from Redis or the wire, or undefined when it is not one. */
export function banFrom(value: unknown): Ban | undefined {
  if (!isRecord(value)) return undefined;
  const { kind, value: banned, expiresAt, createdAt, issuedBeforeSec, reason } = value;
  if (typeof kind !== 'string' || !(BAN_KINDS as readonly string[]).includes(kind)) return undefined;
  if (typeof banned !== 'string' || invalidBanValue(kind as BanKind, banned) !== undefined) return undefined;
  if (typeof expiresAt !== 'number' || typeof createdAt !== 'number') return undefined;
  if (issuedBeforeSec !== undefined && typeof issuedBeforeSec !== 'number') return undefined;
  if (reason !== undefined && typeof reason !== 'string') return undefined;
  return {
    kind: kind as BanKind,
    value: banned,
    expiresAt,
    createdAt,
    ...(issuedBeforeSec !== undefined && { issuedBeforeSec }),
    ...(reason !== undefined && { reason }),
  };
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function redisBanStore(redis: Redis): BanStore {
  return {
    async load() {
      const entries = await redis.hgetall(BANS_REDIS_KEY);
      return Object.values(entries)
        .map((text) => banFrom(parsed(text)))
        .filter((ban) => ban !== undefined);
    },
    async save(ban) {
      await redis.hset(BANS_REDIS_KEY, banKey(ban.kind, ban.value), JSON.stringify(ban));
    },
    async delete(keys) {
      if (keys.length > 0) await redis.hdel(BANS_REDIS_KEY, ...keys);
    },
    ready: () => redis.status === 'ready',
    async close() {
      await closeRedis(redis);
    },
  };
}
