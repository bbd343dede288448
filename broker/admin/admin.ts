// Operations, wired into a broker in three calls from broker.ts: `createAdmin` before aedes (the
// ban guard for the adapter, the traffic counters around its hooks), `start` once aedes runs (bans
// loaded, metrics attached, the admin listener opened), `close` when the broker stops.
import type { Aedes } from 'aedes';
import { PartitionedRetainedStore } from '../aedes/persistence/retained-store.ts';
import { persistenceOf } from '../aedes/broker-internals.ts';
import type { AedesHooks } from '../aedes/adapter.ts';
import { BanGuard } from '../bans/ban-guard.ts';
import { memoryBanStore, redisBanStore } from '../bans/ban-store.ts';
import { LiveClients } from '../bans/live-clients.ts';
import { SessionDirectory } from '../bans/session-directory.ts';
import { connectRedis, redisReady } from '../cluster/redis-connection.ts';
import type { Logger } from '../log/logger.ts';
import { BrokerMetrics } from '../metrics/broker-metrics.ts';
import { jwksFetchedAt } from '../metrics/external.ts';
import type { TlsMaterial } from '../net/listeners.ts';
import type { BrokerOptions } from '../options.ts';
import type { HandlerPools } from '../pools/handler-pools.ts';
import { createAdminApi } from './admin-api.ts';
import { startAdminListener, type AdminListener } from './admin-listener.ts';
import { createReadiness } from './readiness.ts';

export interface AdminStart {
  readonly aedes: Aedes;
  readonly pools: HandlerPools;
  readonly tls: TlsMaterial;
  /** The node id series are labelled with (NODE_ID, the cluster's, or aedes' id). */
  readonly node: string;
  readonly signal?: AbortSignal;
}

export interface Admin {
  readonly bans: BanGuard;
  readonly metrics: BrokerMetrics;
  readonly live: LiveClients;
  /** The admin listener's port once started; undefined when ADMIN_PORT is off. */
  readonly port: number | undefined;
  /** The adapter's hooks with the message counters around them. */
  metered(hooks: AedesHooks): AedesHooks;
  start(running: AdminStart): Promise<void>;
  /** Called once every public listener listens: /readyz turns ready. */
  listening(): void;
  close(): Promise<void>;
}

export function createAdmin(options: BrokerOptions, logger: Logger): Admin {
  const live = new LiveClients();
  const sessions = new SessionDirectory(live);
  const metrics = new BrokerMetrics(logger);
  const redis =
    options.redisUrl === undefined
      ? undefined
      : connectRedis(options.redisUrl, 'admin', options.nodeId ?? 'node', logger, {
          onRecovered: () => {
            bans.reload().catch((error: unknown) => logger.warn({ err: String(error) }, 'bans not reloaded'));
          },
        });
  const store = redis === undefined ? memoryBanStore() : redisBanStore(redis);
  const bans = new BanGuard({ logger, store, live, maxBans: options.admin.maxBans });
  let listener: AdminListener | undefined;
  let listening = false;

  return {
    bans,
    metrics,
    live,
    get port() {
      return listener?.port;
    },
    metered: (hooks) => metrics.traffic.metered(hooks),
    async start({ aedes, pools, tls, node, signal }) {
      if (redis !== undefined && options.redisUrl !== undefined)
        await redisReady(redis, options.redisUrl, signal === undefined ? {} : { signal });
      live.attach(aedes);
      sessions.attach(aedes);
      await bans.start(aedes);
      const persistence = persistenceOf(aedes) as { retained?: unknown } | undefined;
      const retained =
        persistence?.retained instanceof PartitionedRetainedStore ? persistence.retained : undefined;
      metrics.attach(node, {
        aedes,
        live,
        pools,
        bans: () => bans.list(),
        retainedMessages: () => Promise.resolve(retained?.size),
      });
      const { port } = options.admin;
      if (port === undefined) return;
      const readiness = createReadiness({
        listening: () => listening,
        ...(redis !== undefined && { redis: () => redis.status === 'ready' }),
        ...(options.token.jwksUrl !== undefined && { jwks: () => jwksFetchedAt(logger) !== undefined }),
      });
      const api = createAdminApi({
        node,
        logger,
        guard: bans,
        live,
        sessions,
        metrics,
        readiness,
        maxBanTtlSec: options.admin.maxBanTtlSec,
      });
      listener = await startAdminListener({ ...options.admin, port }, tls, api);
      logger.info(
        {
          host: options.admin.host,
          port: listener.port,
          tls: options.admin.tls,
          token: options.admin.token !== undefined,
        },
        'admin listener (metrics, readiness, admin API)',
      );
    },
    listening: () => {
      listening = true;
    },
    async close() {
      listening = false;
      await listener?.close();
      await bans.close();
    },
  };
}
