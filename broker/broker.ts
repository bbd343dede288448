// startBroker: resolves keys and certificates, creates the aedes instance with Cashew's hooks,
// opens the listeners, and returns a handle that stops it all.
import { readFile } from 'node:fs/promises';
import { Aedes, type AedesOptions } from 'aedes';
import { ensureDevCertificates } from '../certs/dev-certs.ts';
import { createAdapter, type Adapter } from './aedes/adapter.ts';
import { startCluster } from './cluster/index.ts';
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
  type TlsMaterial,
} from './net/listeners.ts';
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
}

async function tlsMaterial(options: BrokerOptions, logger: Logger): Promise<TlsMaterial> {
  if (options.tlsCert !== undefined && options.tlsKey !== undefined) {
    return { cert: await readFile(options.tlsCert), key: await readFile(options.tlsKey) };
  }
  const { paths, created } = await ensureDevCertificates(options.certsDir);
  if (created)
    logger.warn({ ca: paths.ca }, 'generated dev certificates; clients verify the server with this CA');
  return { cert: await readFile(paths.cert), key: await readFile(paths.key) };
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

export async function startBroker(
  brokerOptions: BrokerOptions,
  deps: StartDependencies = {},
): Promise<RunningBroker> {
  const logger = deps.logger ?? createLogger(brokerOptions.logLevel);
  assertDevTokensExposureAllowed(brokerOptions);
  const options = await withDevSecret(brokerOptions, logger);
  const verifier = await createTokenVerifier(options.token);
  await verifier.keys.keySet?.refresh().catch((error: unknown) => {
    logger.warn({ err: error }, 'JWKS not reachable at start; it is fetched again when a token needs it');
  });
  // REDIS_URL: scale-out (broker/cluster/); absent: the embedded in-memory default, unchanged.
  const cluster = options.redisUrl === undefined ? undefined : await startCluster(options, logger);
  const pools = new HandlerPools({ logger, ...(cluster !== undefined && { coordinator: cluster.pools }) });
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
  cluster?.attach(aedes);
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
  const tls = await tlsMaterial(options, logger);
  const { host } = options;
  const listeners: Listener[] = [];
  const sink = { aedes, limits: options.limits, logger };
  const proxy = options.proxyProtocol ? { trusted: trustListOf(options.trustedProxies), logger } : undefined;
  try {
    listeners.push(await startMqttsListener(sink, tls, options.mqttsPort, host, proxy));
    listeners.push(await startWssListener(sink, tls, options.wssPort, host, onRequest, proxy));
    if (options.mqttPort !== undefined) listeners.push(await startMqttListener(sink, options.mqttPort, host));
    if (options.wsPort !== undefined)
      listeners.push(await startWsListener(sink, options.wsPort, host, onRequest));
  } catch (error) {
    await Promise.all(listeners.map((listener) => listener.close()));
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await cluster?.close();
    throw error;
  }
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
      await cluster?.leave();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await cluster?.close();
      pools.close();
      await stopped;
      logger.info({ node: aedes.id }, 'cashew broker stopped');
    })());

  return { aedes, adapter, ports, logger, options, close };
}
