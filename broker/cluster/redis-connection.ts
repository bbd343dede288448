// One Redis connection as the cluster uses it: reconnects for ever with a capped backoff, queues
// commands while Redis is away (they run when it is back; nothing is rejected for being offline),
// logs each outage once, not once per retry, and never lets a failed command kill the process:
// aedes-persistence-redis sends some commands without awaiting them (the LREM and RPUSH of
// putWill/delWill, the LREM of a stale queue entry). When one fails — the connection quit while the
// broker stops, after a client's will — its rejection had no handler, and Node ends a process on an
// unhandled rejection. Every command's promise gets a handler here; whoever awaits it still gets the error.
// The same handler counts the commands waiting for an answer, so that the broker can tell a Redis that
// is away or stalled (it then refuses CONNECTs at once instead of queueing their commands for ever) and
// an operator can see the backlog (`cashew_redis_commands_waiting`).
import { Redis, type Command } from 'ioredis';
import { CashewError, withTimeout } from '../../protocol/index.ts';
import type { Logger } from '../log/logger.ts';

/** Longest pause between two reconnection attempts. */
export const REDIS_MAX_RETRY_DELAY_MS = 1000;
/** How long a broker waits for Redis at start before giving up. */
export const REDIS_START_TIMEOUT_MS = 10_000;
/** How long a closing connection waits for Redis to answer (its QUIT, a last write) before it is dropped. */
export const REDIS_CLOSE_TIMEOUT_MS = 2_000;
/** Commands waiting this long with none answered: Redis is stalled (up, connected, not answering). */
export const REDIS_STALL_MS = 5_000;

export type RedisRole = 'persistence' | 'publish' | 'subscribe' | 'presence' | 'admin';

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

/** Commands of one connection sent (or queued while it is away) and not answered yet. */
interface Backlog {
  readonly role: RedisRole;
  waiting: number;
  /** The last answer (or message, on the subscribe connection), or when the first of the waiting
   * commands was sent after none waited. */
  progressAt: number;
}

const backlogs = new WeakMap<Redis, Backlog>();

/**
 * Marks a command once counted: ioredis sends a command queued while Redis was away through
 * sendCommand again once it is back. A property of our own symbol, not a WeakSet: ~0.2 µs per
 * command against ~0.6 µs (a microbench of the wrapper alone, stop 22), and one command per message
 * goes through the publish connection.
 */
const COUNTED = Symbol('cashew.redis.counted');
type Counted = Command & { [COUNTED]?: true };

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
  const backlog: Backlog = { role, waiting: 0, progressAt: Date.now() };
  backlogs.set(redis, backlog);
  const answered = (): void => {
    backlog.waiting -= 1;
    backlog.progressAt = Date.now();
  };
  if (role === 'subscribe') {
    // A command of the subscribe connection (a SUBSCRIBE, an UNSUBSCRIBE) is answered after every
    // message Redis queued for the node before it: while a backlog drains (a flood, docs/scaling.md)
    // messages are the progress, or the node would take a Redis that is busy sending to it for stalled.
    const heard = (): void => {
      backlog.progressAt = Date.now();
    };
    redis.on('messageBuffer', heard);
    redis.on('pmessageBuffer', heard);
  }
  redis.sendCommand = (command: Counted, stream?: Parameters<Redis['sendCommand']>[1]): unknown => {
    if (command[COUNTED] !== true) {
      command[COUNTED] = true;
      if (backlog.waiting === 0) backlog.progressAt = Date.now();
      backlog.waiting += 1;
      command.promise.then(answered, answered);
    }
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

/** Commands `redis` (made by connectRedis) has sent or queued and not had answered. */
export function waitingCommands(redis: Redis): number {
  return backlogs.get(redis)?.waiting ?? 0;
}

/**
 * Why `redis` cannot serve a client now, or undefined when it can: the connection is not ready (Redis
 * stopped, unreachable, restarting), or commands have waited `stallMs` with nothing heard (no answer,
 * and on the subscribe connection no message either: Redis up and connected but not answering:
 * paused, swapping, a long script).
 */
export function redisTrouble(redis: Redis, now: number, stallMs = REDIS_STALL_MS): string | undefined {
  const backlog = backlogs.get(redis);
  const role = backlog?.role ?? 'connection';
  if (redis.status !== 'ready') return `Redis ${role} connection is ${redis.status}`;
  if (backlog === undefined || backlog.waiting === 0) return undefined;
  const silentMs = now - backlog.progressAt;
  if (silentMs < stallMs) return undefined;
  return `Redis has answered none of ${backlog.waiting} ${role} commands for ${Math.floor(silentMs / 1000)} s`;
}

/**
 * Whether `redis` is worth waiting on for a last write at a stop: connected, and no command of it has
 * waited REDIS_CLOSE_TIMEOUT_MS unanswered (as long as a QUIT would be waited for).
 */
export function redisAnswers(redis: Redis): boolean {
  return redisTrouble(redis, Date.now(), REDIS_CLOSE_TIMEOUT_MS) === undefined;
}

export interface ReadyWait {
  /** Default REDIS_START_TIMEOUT_MS. */
  readonly timeoutMs?: number;
  /** Gives up early (the broker was asked to stop while starting): rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
}

/** Resolves when the connection is ready; rejects with ERR_START_FAILED naming REDIS_URL on timeout. */
export function redisReady(redis: Redis, url: string, wait: ReadyWait = {}): Promise<void> {
  const { timeoutMs = REDIS_START_TIMEOUT_MS, signal } = wait;
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const settle = (error?: Error): void => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      signal?.removeEventListener('abort', onAbort);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onReady = (): void => settle();
    const onAbort = (): void =>
      settle(signal?.reason instanceof Error ? signal.reason : new Error('aborted while waiting for Redis'));
    const timer = setTimeout(
      () =>
        settle(
          new CashewError(
            'ERR_START_FAILED',
            `REDIS_URL: ${redactedUrl(url)} did not answer within ${timeoutMs / 1000} s`,
          ),
        ),
      timeoutMs,
    );
    redis.once('ready', onReady);
    if (signal?.aborted === true) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Closes a connection without waiting on a Redis that does not answer. A QUIT (or any command) on a
 * connection that is not ready waits in the offline queue until Redis answers: for ever when REDIS_URL
 * accepts connections and never answers, and a broker that failed to start there (or was asked to stop)
 * never exited. Ready and answering: QUIT, so that what was sent before it runs first, within
 * REDIS_CLOSE_TIMEOUT_MS; otherwise (not ready, or its commands unanswered that long already), or
 * past that, the connection is dropped.
 */
export async function closeRedis(redis: Redis): Promise<void> {
  if (!redisAnswers(redis)) {
    redis.disconnect();
    return;
  }
  await withTimeout(
    redis.quit(),
    REDIS_CLOSE_TIMEOUT_MS,
    () => new CashewError('ERR_TIMEOUT', 'Redis did not answer QUIT'),
  ).catch(() => redis.disconnect());
}
