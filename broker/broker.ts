// startBroker: resolves keys and certificates, creates the aedes instance with Cashew's hooks,
// opens the listeners, and returns a handle that stops it all.
import { Aedes, type AedesOptions } from 'aedes';
import { createAdapter, type Adapter } from './aedes/adapter.ts';
import { startCluster, type Cluster } from './cluster/index.ts';
import { demoPageRoutes } from './dev/demo-page.ts';
import { assertDevTokensExposureAllowed, devTokenRoutes } from './dev/dev-token-endpoint.ts';
import { ensureDevSecret } from './dev/dev-credentials.ts';
import { HandlerPools } from './pools/handler-pools.ts';
import { createRequestListener, sendJson, type Route } from './http/routes.ts';
import {
  startMqttListener,
  startMqttsListener,
  startWsListener,
  startWssListener,
  type Listener,
  type ListenerName,
} from './net/listeners.ts';
import { loadTlsMaterial } from './net/tls-material.ts';
import { tlsResumption } from './net/tls-sessions.ts';
import { StartRollback } from './start-rollback.ts';
import { ConnectionLog } from './log/connection-log.ts';
import { startPresence } from './presence/start-presence.ts';
import { createLogger, type Logger } from './log/logger.ts';
import type { BrokerOptions } from './options.ts';
import { trustListOf } from './net/proxy-protocol.ts';
import { markAuthenticated } from './net/packet-size-guard.ts';
import { destroyOpenConnections } from './net/connection-bounds.ts';
import { ConnectGate } from './limits/connect-gate.ts';
import { partitionedMemoryPersistence } from './aedes/persistence/partitioned-memory.ts';
import { auditQueueDrops } from './aedes/persistence/session-queues.ts';
import { LocalAwaySessions, SessionExpiry, type SessionRemoval } from './aedes/session-expiry.ts';
import { dropUnobservedSysEvents } from './aedes/sys-events.ts';
import { AEDES_PATCH_OPTIONS, AEDES_TUNING } from './aedes/tuning.ts';
import { createTokenVerifier } from './auth/verify.ts';
import { createAdmin, type Admin } from './admin/admin.ts';
import {
  countJwksFetch,
  countTokenCacheLookup,
  provideQueuedMessages,
  provideRedisWaiting,
} from './metrics/external.ts';

export type Ports = Partial<Record<ListenerName, number>>;

export interface RunningBroker {
  readonly aedes: Aedes;
  readonly adapter: Adapter;
  readonly ports: Ports;
  readonly logger: Logger;
  readonly options: BrokerOptions;
  /** Metrics, bans, the admin listener (broker/admin/; its port is `admin.port`). */
  readonly admin: Admin;
  /** Closes listeners, disconnects clients, and stops aedes. */
  close(): Promise<void>;
}

export interface StartDependencies {
  readonly logger?: Logger;
  /** Extra HTTPS routes on the WSS port (demo page, metrics, dev token endpoint). */
  readonly routes?: ReadonlyMap<string, Route>;
  /** Extra aedes options (persistence and mq for scale-out). */
  readonly aedes?: Partial<AedesOptions>;
  /** Aborts a start in progress (the stop signal arrived): what was started is stopped, start rejects. */
  readonly signal?: AbortSignal;
}

async function withDevSecret(options: BrokerOptions, logger: Logger): Promise<BrokerOptions> {
  const { token } = options;
  if (token.secret !== undefined || token.publicKeyPath !== undefined || token.jwksUrl !== undefined)
    return options;
  const secret = await ensureDevSecret(options.certsDir);
  logger.warn(
    { howToGetAToken: 'npx cashew token --user <userId>   (or --handler <name> --commands a,b --events c)' },
    'dev mode: no JWT key configured, tokens are signed with a dev secret kept in ' + options.certsDir,
  );
  return { ...options, token: { ...token, secret } };
}

/**
 * Starts the broker, all or nothing: a failure (ERR_CONFIG_INVALID or ERR_START_FAILED naming the
 * setting) or an abort through `deps.signal` stops whatever had started before start rejects.
 */
export async function startBroker(
  brokerOptions: BrokerOptions,
  deps: StartDependencies = {},
): Promise<RunningBroker> {
  const logger = deps.logger ?? createLogger(brokerOptions.logLevel);
  const rollback = new StartRollback();
  try {
    return await startParts(brokerOptions, deps, logger, rollback);
  } catch (error) {
    await rollback.run((stopError) => logger.debug({ err: stopError }, 'stopping after a failed start'));
    throw error;
  }
}

async function startParts(
  brokerOptions: BrokerOptions,
  deps: StartDependencies,
  logger: Logger,
  rollback: StartRollback,
): Promise<RunningBroker> {
  const { signal } = deps;
  assertDevTokensExposureAllowed(brokerOptions);
  // Files first (keys, certificates, the dev secret): nothing runs yet when one of them is unusable.
  const options = await withDevSecret(brokerOptions, logger);
  const admin = createAdmin(options, logger);
  rollback.add(() => admin.close());
  // Every JWKS fetch (at start, on an unknown kid, after the max age) and every lookup in the
  // verified-token cache is counted in the metrics.
  const verifier = await createTokenVerifier(options.token, {
    onJwksFetch: (outcome) => countJwksFetch(logger, outcome),
    onCacheLookup: (result) => countTokenCacheLookup(logger, result),
  });
  const tls = { ...(await loadTlsMaterial(options, logger)), resumption: tlsResumption(options.tlsSessions) };
  signal?.throwIfAborted();
  for (const keySet of verifier.keySets) {
    await keySet.refresh().catch((error: unknown) => {
      logger.warn({ err: error }, 'JWKS not reachable at start; retried with backoff when a token needs it');
    });
  }
  signal?.throwIfAborted();
  // REDIS_URL: scale-out (broker/cluster/); absent: the embedded in-memory default, unchanged.
  const cluster = options.redisUrl === undefined ? undefined : await startCluster(options, logger, signal);
  if (cluster !== undefined) rollback.add(() => stopUnattachedCluster(cluster));
  signal?.throwIfAborted();
  const pools = new HandlerPools({ logger, ...(cluster !== undefined && { coordinator: cluster.pools }) });
  rollback.add(() => pools.close());
  // Presence: users' online/offline for handlers granted it (broker/presence/).
  const presence = await startPresence(options, logger, cluster, signal, deps.aedes?.mq !== undefined);
  rollback.add(() => presence.close());
  signal?.throwIfAborted();
  const gate = new ConnectGate(options.limits.connect);
  if (cluster !== undefined) gate.shareUserConnections(cluster.userConnections);
  const { sessions } = options.limits;
  // Retained messages indexed and bounded by partition, queues capped per session; scale-out brings its own.
  const memory = partitionedMemoryPersistence(
    options.limits.retained,
    sessions.queue,
    auditQueueDrops(logger, sessions.queue),
  );
  const connectionLog = new ConnectionLog(logger);
  const adapter = createAdapter({
    verifier,
    logger,
    pools,
    gate,
    maxOutgoingBuffer: options.limits.maxOutgoingBuffer,
    topics: options.limits.topics,
    maxSubscriptionsPerConnection: options.limits.maxSubscriptionsPerConnection,
    maxFiltersPerSubscribe: options.limits.maxFiltersPerSubscribe,
    publishRate: options.limits.publishRate,
    retained: cluster?.retained ?? memory.retained,
    ...(cluster !== undefined && { backend: cluster }),
    observers: [connectionLog, presence],
    tokenRefreshIntervalMs: options.limits.tokenRefreshIntervalMs,
    bans: admin.bans,
  });
  const persistence =
    cluster?.persistence ?? (deps.aedes?.persistence as SessionRemoval | undefined) ?? memory;
  // Redis mode: what is queued lives in Redis lists (counting them at every scrape would scan Redis).
  if (cluster === undefined) provideQueuedMessages(logger, () => memory.queues.stats().messages);
  else provideRedisWaiting(logger, () => cluster.waitingCommands());
  const aedes = await Aedes.createBroker({
    ...AEDES_TUNING,
    ...AEDES_PATCH_OPTIONS,
    ...admin.metered(adapter.hooks),
    ...(options.nodeId !== undefined && { id: options.nodeId }),
    // Scale-out passes its own persistence (cluster.aedesOptions, or deps.aedes).
    persistence,
    ...cluster?.aedesOptions,
    ...deps.aedes,
  });
  rollback.add(() => new Promise<void>((resolve) => aedes.close(() => resolve())));
  cluster?.attach(aedes);
  if (cluster !== undefined) rollback.add(() => cluster.leave()); // as close(): before aedes.close()
  // One process, in-process emitter: nobody reads aedes' per-connect/per-SUBSCRIBE $SYS announcements.
  if (cluster === undefined && deps.aedes?.mq === undefined) dropUnobservedSysEvents(aedes);
  // Pools and expiry timers follow aedes' own client events (broker/aedes/client-lifecycle.ts).
  adapter.attach(aedes);
  const away = cluster?.awaySessions ?? new LocalAwaySessions();
  const sessionExpiry = new SessionExpiry({
    expiryMs: sessions.expiryMs,
    maxPerUser: sessions.maxPerUser,
    away,
    persistence,
    logger,
  });
  sessionExpiry.attach(aedes);
  rollback.add(() => sessionExpiry.close());
  connectionLog.attach(aedes);
  await presence.attach(aedes);
  await admin.start({ aedes, pools, tls, node: cluster?.nodeId ?? aedes.id, ...(signal && { signal }) });
  // Accepted: packets up to MAX_PACKET_SIZE from now on (MAX_CONNECT_PACKET_SIZE before).
  aedes.on('clientReady', (client) => markAuthenticated(client.conn));
  aedes.on('clientError', (client, error) =>
    logger.debug({ clientId: client.id, err: error.message }, 'client error'),
  );
  aedes.on('connectionError', (_client, error) => logger.debug({ err: error.message }, 'connection error'));

  // The demo app and its `/` redirect exist in dev mode only; /healthz tells anonymous callers nothing
  // but that the process answers (node, clients and readiness are on the admin listener).
  const routes = new Map<string, Route>([
    ...(options.mode === 'dev' ? demoPageRoutes() : []),
    ...devTokenRoutes(options, logger),
  ]);
  for (const [path, route] of deps.routes ?? []) routes.set(path, route);
  routes.set('/healthz', (_request, response) => sendJson(response, 200, { status: 'ok' }));
  const onRequest = createRequestListener(routes);
  const { host } = options;
  const listeners: Listener[] = [];
  rollback.add(() => Promise.all(listeners.map((listener) => listener.close())).then(() => undefined));
  rollback.add(() => tls.resumption.tickets?.close());
  const sink = { aedes, limits: options.limits, logger };
  const proxy = options.proxyProtocol ? { trusted: trustListOf(options.trustedProxies), logger } : undefined;
  listeners.push(await startMqttsListener(sink, tls, options.mqttsPort, host, proxy));
  listeners.push(await startWssListener(sink, tls, options.wssPort, host, onRequest, proxy));
  if (options.mqttPort !== undefined) listeners.push(await startMqttListener(sink, options.mqttPort, host));
  if (options.wsPort !== undefined)
    listeners.push(await startWsListener(sink, options.wsPort, host, onRequest));
  signal?.throwIfAborted();
  const ports: Ports = Object.fromEntries(listeners.map((listener) => [listener.name, listener.port]));
  for (const listener of listeners) {
    if (listener.name === 'mqtt' || listener.name === 'ws') {
      logger.warn(
        { listener: listener.name, host, port: listener.port },
        'PLAIN-TEXT LISTENER: no TLS, local development only',
      );
    }
  }
  admin.listening();
  logger.info(
    {
      host,
      ports,
      node: aedes.id,
      mode: options.mode,
      ...(admin.port !== undefined && { adminPort: admin.port }),
    },
    'cashew broker listening',
  );

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      connectionLog.stopping();
      const stopped = Promise.all(listeners.map((listener) => listener.close()));
      tls.resumption.tickets?.close();
      await cluster?.leave();
      // With Redis away these wait for answers that do not come: the stop waits only while it answers.
      const whileRedisAnswers = (work: Promise<unknown>): Promise<boolean> =>
        cluster === undefined ? work.then(() => true) : cluster.whileAnswering(work);
      await whileRedisAnswers(sessionExpiry.close());
      const aedesClosed = new Promise<void>((resolve) => aedes.close(() => resolve()));
      if (!(await whileRedisAnswers(aedesClosed))) {
        const destroyed = destroyOpenConnections(sink);
        logger.warn({ destroyed }, 'connections closed without their session writes (Redis away)');
      }
      // Each bounded on its own (a Redis away is not waited for), so run side by side.
      await Promise.all([presence.close(), cluster?.close(), admin.close()]);
      pools.close();
      await stopped;
      logger.info({ node: aedes.id }, 'cashew broker stopped');
    })());

  return { aedes, adapter, ports, logger, options, admin, close };
}

/**
 * A cluster whose aedes never started (or was closed first): its emitter's two Redis connections are
 * closed by aedes.close() once attached, and here otherwise; then its persistence connection.
 */
async function stopUnattachedCluster(cluster: Cluster): Promise<void> {
  // aedes types its options' mq as `any`; mqemitter's close(callback) is what is used here.
  const mq = cluster.aedesOptions.mq as { close(done: () => void): void } | undefined;
  if (mq !== undefined) await new Promise<void>((resolve) => mq.close(() => resolve()));
  await cluster.close();
}
