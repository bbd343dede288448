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
import { createLogger, type Logger } from './log/logger.ts';
import type { BrokerOptions } from './options.ts';
import { trustListOf } from './net/proxy-protocol.ts';
import { markAuthenticated } from './net/packet-size-guard.ts';
import { ConnectGate } from './limits/connect-gate.ts';
import { partitionedMemoryPersistence } from './aedes/persistence/partitioned-memory.ts';
import { dropUnobservedSysEvents } from './aedes/sys-events.ts';
import { AEDES_TUNING } from './aedes/tuning.ts';
import { createTokenVerifier } from './auth/verify.ts';

export type Ports = Partial<Record<ListenerName, number>>;

export interface RunningBroker {
  readonly aedes: Aedes;
  readonly adapter: Adapter;
  readonly ports: Ports;
  readonly logger: Logger;
  readonly options: BrokerOptions;
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
  const verifier = await createTokenVerifier(options.token);
  const tls = { ...(await loadTlsMaterial(options, logger)), resumption: tlsResumption(options.tlsSessions) };
  signal?.throwIfAborted();
  await verifier.keys.keySet?.refresh().catch((error: unknown) => {
    logger.warn({ err: error }, 'JWKS not reachable at start; it is fetched again when a token needs it');
  });
  signal?.throwIfAborted();
  // REDIS_URL: scale-out (broker/cluster/); absent: the embedded in-memory default, unchanged.
  const cluster = options.redisUrl === undefined ? undefined : await startCluster(options, logger, signal);
  if (cluster !== undefined) rollback.add(() => stopUnattachedCluster(cluster));
  signal?.throwIfAborted();
  const pools = new HandlerPools({ logger, ...(cluster !== undefined && { coordinator: cluster.pools }) });
  rollback.add(() => pools.close());
  const gate = new ConnectGate(options.limits.connect);
  const adapter = createAdapter({
    verifier,
    token: options.token,
    logger,
    pools,
    gate,
    maxOutgoingBuffer: options.limits.maxOutgoingBuffer,
    topics: options.limits.topics,
    maxSubscriptionsPerConnection: options.limits.maxSubscriptionsPerConnection,
    publishRate: options.limits.publishRate,
  });
  const aedes = await Aedes.createBroker({
    ...AEDES_TUNING,
    ...adapter.hooks,
    ...(options.nodeId !== undefined && { id: options.nodeId }),
    // Retained messages indexed by partition; scale-out passes its own persistence in deps.aedes.
    persistence: (deps.aedes?.persistence as unknown) ?? partitionedMemoryPersistence(),
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
  // Accepted: packets up to MAX_PACKET_SIZE from now on (MAX_CONNECT_PACKET_SIZE before).
  aedes.on('clientReady', (client) => markAuthenticated(client.conn));
  aedes.on('clientError', (client, error) =>
    logger.debug({ clientId: client.id, err: error.message }, 'client error'),
  );
  aedes.on('connectionError', (_client, error) => logger.debug({ err: error.message }, 'connection error'));

  const startedAt = Date.now();
  const routes = new Map<string, Route>([...demoPageRoutes(), ...devTokenRoutes(options, logger)]);
  for (const [path, route] of deps.routes ?? []) routes.set(path, route);
  routes.set('/healthz', (_request, response) =>
    sendJson(response, 200, {
      status: 'ok',
      node: aedes.id,
      clients: aedes.connectedClients,
      uptimeSec: Math.round((Date.now() - startedAt) / 1000),
    }),
  );
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
  logger.info({ host, ports, node: aedes.id, mode: options.mode }, 'cashew broker listening');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      const stopped = Promise.all(listeners.map((listener) => listener.close()));
      tls.resumption.tickets?.close();
      await cluster?.leave();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await cluster?.close();
      pools.close();
      await stopped;
      logger.info({ node: aedes.id }, 'cashew broker stopped');
    })());

  return { aedes, adapter, ports, logger, options, close };
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
