// What every listener does with a new connection before and while aedes serves it: handshake
// timeouts (TLS ClientHello, HTTP upgrade) and the maximum packet size, each refusal audited; and the
// connections a stop that cannot wait for aedes destroys.
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Aedes } from 'aedes';
import type { Limits } from '../limits/limits.ts';
import { auditRefusal } from '../log/audit.ts';
import type { Logger } from '../log/logger.ts';
import { localConnections } from '../aedes/broker-internals.ts';
import { guardPacketSize, type Oversize, type PacketSizeLimits } from './packet-size-guard.ts';

/** Where listeners hand MQTT connections, with the bounds that apply to them. */
export interface MqttSink {
  readonly aedes: Aedes;
  readonly limits: Limits;
  readonly logger: Logger;
}

/** What the connections of one sink share: the packet-size limits and audit callback, the unadmitted. */
interface SinkGuarding {
  readonly limits: PacketSizeLimits;
  readonly onOversize: (oversize: Oversize) => void;
  /**
   * Connections handed to aedes that it has not registered (no CONNACK 0 yet), which aedes' own close
   * does not know of. Left when aedes registers the client (its 'client' event); closed ones are
   * pruned as the set doubles, so that an idle connection costs nothing here and no connection
   * carries a listener of this.
   */
  readonly unadmitted: Set<Duplex>;
  pruneAt: number;
}

/** The size from which the set of unadmitted connections is first pruned of closed ones. */
const PRUNE_FROM = 64;

/** Made once per sink, not per connection (docs/memory-per-connection.md). */
const guarding = new WeakMap<MqttSink, SinkGuarding>();

function guardingOf(sink: MqttSink): SinkGuarding {
  let shared = guarding.get(sink);
  if (shared !== undefined) return shared;
  const { maxConnectPacketSize, maxPacketSize } = sink.limits;
  const unadmitted = new Set<Duplex>();
  sink.aedes.on('client', (client) => unadmitted.delete(client.conn));
  shared = {
    unadmitted,
    pruneAt: PRUNE_FROM,
    limits: { beforeAuthentication: maxConnectPacketSize, afterAuthentication: maxPacketSize },
    onOversize: ({ declared, limit, authenticated, address }) =>
      auditRefusal(sink.logger, {
        action: 'limit',
        identity: 'unknown',
        clientId: null,
        code: 'ERR_PACKET_TOO_LARGE',
        reason: `packet of ${declared} bytes over the ${authenticated ? 'MAX_PACKET_SIZE' : 'MAX_CONNECT_PACKET_SIZE'} of ${limit}; connection closed`,
        ...(address !== undefined && { address }),
      }),
  };
  guarding.set(sink, shared);
  return shared;
}

/** Hands `stream` to aedes and bounds the size of every packet it sends. */
export function acceptMqtt(
  sink: MqttSink,
  stream: Duplex,
  address: string | undefined,
  request?: IncomingMessage,
): void {
  sink.aedes.handle(stream, request);
  const shared = guardingOf(sink);
  guardPacketSize(stream, shared.limits, shared.onOversize, address);
  const { unadmitted } = shared;
  unadmitted.add(stream);
  if (unadmitted.size >= shared.pruneAt) {
    for (const held of unadmitted) if (held.destroyed) unadmitted.delete(held);
    shared.pruneAt = Math.max(PRUNE_FROM, 2 * unadmitted.size);
  }
}

/** Connections of `sink` in the unadmitted set now, closed ones not yet pruned included (a bound check). */
export function unadmittedConnections(sink: MqttSink): number {
  return guardingOf(sink).unadmitted.size;
}

/**
 * Destroys every MQTT connection of `sink` still open: the clients aedes registered and those it has
 * not. For a stop that gives up waiting for aedes' own close (Redis away: aedes closes each client
 * only after Redis answered its last writes, and a CONNECT in progress may wait on Redis too), so
 * that no socket outlives the broker; returns how many were destroyed.
 */
export function destroyOpenConnections(sink: MqttSink): number {
  const { unadmitted } = guardingOf(sink);
  const open = new Set(localConnections(sink.aedes));
  for (const stream of unadmitted) if (!stream.destroyed) open.add(stream);
  unadmitted.clear();
  for (const stream of open) stream.destroy();
  return open.size;
}

/**
 * Options for `tls.createServer` / `https.createServer`: the handshake must finish within the limit,
 * and on HTTPS the request (the WebSocket upgrade) must arrive within it too; Node checks expired
 * requests every `connectionsCheckingInterval`, so that is a fraction of the limit.
 */
export function handshakeServerOptions(limits: Limits): {
  handshakeTimeout: number;
  headersTimeout: number;
  requestTimeout: number;
  connectionsCheckingInterval: number;
} {
  const timeout = limits.handshakeTimeoutMs;
  return {
    handshakeTimeout: timeout,
    headersTimeout: timeout,
    requestTimeout: timeout,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(timeout / 4))),
  };
}

/**
 * On an HTTP(S) server that upgrades to WebSocket: a connection that sends no request within the limit
 * is closed (Node's `headersTimeout` only counts once a request has begun). `server.timeout` arms an
 * idle timer on each connection; ws clears it on upgrade, and keep-alive idling has its own timeout.
 */
export function closeIdleUpgrades(server: HttpServer, limits: Limits, logger: Logger): void {
  server.setTimeout(limits.handshakeTimeoutMs, (socket: Socket) => {
    const address = socket.remoteAddress;
    socket.destroy();
    auditRefusal(logger, {
      action: 'limit',
      identity: 'unknown',
      clientId: null,
      code: 'ERR_HANDSHAKE_TIMEOUT',
      reason: 'no WebSocket upgrade request within HANDSHAKE_TIMEOUT_MS; socket closed',
      ...(address !== undefined && { address }),
    });
  });
}

/**
 * The `tlsClientError` listener: a failed or timed-out handshake concerns that peer only. Node leaves
 * the socket to the listener, so it is destroyed here (a no-op listener held such sockets forever).
 */
export function onTlsClientError(logger: Logger): (error: Error & { code?: string }, socket: Socket) => void {
  return (error, socket) => {
    const address = socket.remoteAddress;
    socket.destroy();
    if (error.code !== 'ERR_TLS_HANDSHAKE_TIMEOUT') return;
    auditRefusal(logger, {
      action: 'limit',
      identity: 'unknown',
      clientId: null,
      code: 'ERR_HANDSHAKE_TIMEOUT',
      reason: 'TLS handshake not finished within HANDSHAKE_TIMEOUT_MS; socket closed',
      ...(address !== undefined && { address }),
    });
  };
}
