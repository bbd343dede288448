// Metrics whose events happen in modules owned elsewhere (token verification, in-band token refresh,
// the offline queue, Redis' backlog). Each has one small function here, keyed by the broker's logger — the one object
// every part of a broker already holds — so that wiring one is a single call where the event happens.
// Until a module calls its function the series stays at zero (docs/operations.md says which).
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../log/logger.ts';

export interface ExternalMetrics {
  readonly tokenRefreshes: Counter<'outcome'>;
  readonly jwksFetches: Counter<'outcome'>;
  readonly jwksKeyAge: Gauge;
  /** Bound once per result: a lookup happens at every CONNECT. */
  readonly tokenCacheLookups: Readonly<Record<'hit' | 'miss', Counter.Internal>>;
  readonly queuedMessages: Gauge;
  readonly redisWaiting: Gauge;
  readonly dropped: Counter<'reason'>;
}

const byLogger = new WeakMap<Logger, ExternalMetrics>();
const jwksFetchedAtByLogger = new WeakMap<Logger, number>();
const queuedCounts = new WeakMap<Logger, () => number>();
const redisWaitingCounts = new WeakMap<Logger, () => number>();

function bindResults(counter: Counter<'result'>): Record<'hit' | 'miss', Counter.Internal> {
  return { hit: counter.labels('hit'), miss: counter.labels('miss') };
}

export function registerExternalMetrics(
  registry: Registry,
  logger: Logger,
  dropped: Counter<'reason'>,
): ExternalMetrics {
  const metrics: ExternalMetrics = {
    tokenRefreshes: new Counter({
      name: 'cashew_token_refreshes_total',
      help: 'In-band token refreshes, by outcome (accepted, refused)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    jwksFetches: new Counter({
      name: 'cashew_jwks_fetches_total',
      help: 'JWKS fetches, by outcome (ok, error)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    tokenCacheLookups: bindResults(
      new Counter({
        name: 'cashew_token_cache_lookups_total',
        help: 'Lookups of a token in the verified-token cache, by result (hit: no signature check, miss)',
        labelNames: ['result'],
        registers: [registry],
      }),
    ),
    jwksKeyAge: new Gauge({
      name: 'cashew_jwks_key_age_seconds',
      help: 'Seconds since the JWKS was last fetched successfully',
      registers: [registry],
      collect() {
        const at = jwksFetchedAtByLogger.get(logger);
        if (at !== undefined) this.set((Date.now() - at) / 1000);
      },
    }),
    queuedMessages: new Gauge({
      name: 'cashew_queued_messages',
      help: 'Messages queued for offline persistent sessions',
      registers: [registry],
      collect() {
        const count = queuedCounts.get(logger);
        if (count !== undefined) this.set(count());
      },
    }),
    redisWaiting: new Gauge({
      name: 'cashew_redis_commands_waiting',
      help: 'Commands the cluster sent to Redis (or queued while it is away) and has no answer to yet',
      registers: [registry],
      collect() {
        const count = redisWaitingCounts.get(logger);
        if (count !== undefined) this.set(count());
      },
    }),
    dropped,
  };
  byLogger.set(logger, metrics);
  return metrics;
}

/** An in-band token refresh (the control topic): accepted or refused. */
export function countTokenRefresh(logger: Logger, outcome: 'accepted' | 'refused'): void {
  byLogger.get(logger)?.tokenRefreshes.inc({ outcome });
}

/** A JWKS fetch: ok or error. On ok, the key age restarts from zero. */
export function countJwksFetch(logger: Logger, outcome: 'ok' | 'error'): void {
  const metrics = byLogger.get(logger);
  metrics?.jwksFetches.inc({ outcome });
  if (outcome === 'ok') jwksFetchedAtByLogger.set(logger, Date.now());
}

/** A token looked up in the verified-token cache (JWT_CACHE_SIZE): hit or miss. */
export function countTokenCacheLookup(logger: Logger, result: 'hit' | 'miss'): void {
  byLogger.get(logger)?.tokenCacheLookups[result].inc();
}

/** Queued messages for offline sessions, read at scrape time from `count`. */
export function provideQueuedMessages(logger: Logger, count: () => number): void {
  queuedCounts.set(logger, count);
}

/** Commands waiting for Redis (cluster mode), read at scrape time from `count`. */
export function provideRedisWaiting(logger: Logger, count: () => number): void {
  redisWaitingCounts.set(logger, count);
}

/** A message dropped from an offline queue (full, expired session). */
export function countQueuedMessageDropped(
  logger: Logger,
  reason: 'queue_full' | 'session_expired',
  count = 1,
): void {
  byLogger.get(logger)?.dropped.inc({ reason }, count);
}

/** When the JWKS was last fetched successfully through `logger`'s broker (for /readyz). */
export function jwksFetchedAt(logger: Logger): number | undefined {
  return jwksFetchedAtByLogger.get(logger);
}
