// One Redis connection as the cluster uses it: reconnects for ever with a capped backoff, queues
// commands while Redis is away (they run when it is back; nothing is rejected for being offline),
// logs each outage once, not once per retry, and never lets a failed command kill the process:
// aedes-persistence-redis sends some commands without awaiting them (the LREM and RPUSH of
// putWill/delWill, the LREM of a stale queue entry). When one fails — the connection quit while the
// broker stops, after a client's will — its rejection had no handler, and Node ends a process on an
// unhandled rejection. Every command's promise gets a handler here; whoever awaits it still gets the error.
import { Redis, type Command } from 'ioredis';
import { CashewError } from '../../protocol/index.ts';
import type { Logger } from '../log/logger.ts';

/** Longest pause between two reconnection attempts. */
export const REDIS_MAX_RETRY_DELAY_MS = 1000;
/** How long a broker waits for Redis at start before giving up. */
export const REDIS_START_TIMEOUT_MS = 10_000;

export type RedisRole = 'persistence' | 'publish' | 'subscribe';

export interface RedisConnectionEvents {
  /** Called when the connection is ready again after an outage. */
  readonly onRecovered?: () => void;
}

/** The URL without its password, for logs. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'redis://<unparsable>';
  }
}

export function connectRedis(
  url: string,
  role: RedisRole,
  name: string,
  logger: Logger,
  events: RedisConnectionEvents = {},
): Redis {
  const redis = new Redis(url, {
    connectionName: `cashew:${name}:${role}`,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    retryStrategy: (attempt) => Math.min(attempt * 100, REDIS_MAX_RETRY_DELAY_MS),
  });
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = (command: Command, stream?: Parameters<Redis['sendCommand']>[1]): unknown => {
    command.promise.catch(() => undefined);
    return send(command, stream);
  };
  let down: { since: number } | undefined;
  redis.on('error', (error: Error) => {
    if (down !== undefined) return;
    down = { since: Date.now() };
    logger.error({ redis: redactedUrl(url), role, err: error.message }, 'Redis unreachable; retrying');
  });
  redis.on('close', () => {
    if (down === undefined && redis.status !== 'end') {
      down = { since: Date.now() };
      logger.error({ redis: redactedUrl(url), role }, 'Redis connection lost; retrying');
    }
  });
  redis.on('ready', () => {
    if (down === undefined) return;
    logger.warn({ redis: redactedUrl(url), role, downMs: Date.now() - down.since }, 'Redis reconnected');
    down = undefined;
    events.onRecovered?.();
  });
  return redis;
}

/** Resolves when the connection is ready; rejects with ERR_CONFIG_INVALID naming REDIS_URL on timeout. */
export function redisReady(redis: Redis, url: string, timeoutMs = REDIS_START_TIMEOUT_MS): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(
        new CashewError(
          'ERR_CONFIG_INVALID',
          `REDIS_URL=${redactedUrl(url)}: Redis not reachable within ${timeoutMs / 1000} s`,
        ),
      );
    }, timeoutMs);
    const onReady = (): void => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}
