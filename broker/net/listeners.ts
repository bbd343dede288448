// Listeners: MQTT over TLS, MQTT over secure WebSocket (path /mqtt, same HTTPS server as /healthz),
// and plain TCP / WS only when their port is set explicitly, for local development.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { CashewError } from '../../protocol/index.ts';
import type { Setting } from '../options.ts';
import { reasonOf } from '../setting-files.ts';
import type { Route } from '../http/routes.ts';
import {
  acceptMqtt,
  closeIdleUpgrades,
  handshakeServerOptions,
  onTlsClientError,
  type MqttSink,
} from './connection-bounds.ts';
import { proxyProtocolFront, type ProxyFrontOptions } from './proxy-protocol.ts';
import type { TlsResumption } from './tls-sessions.ts';

export const WEBSOCKET_PATH = '/mqtt';

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** Session resumption (broker/net/tls-sessions.ts); Node's defaults when absent. */
  readonly resumption?: TlsResumption;
}

/** The TLS server options every TLS listener shares. */
function tlsServerOptions(tls: TlsMaterial) {
  return {
    cert: tls.cert,
    key: tls.key,
    minVersion: 'TLSv1.2',
    ...(tls.resumption !== undefined && { sessionTimeout: tls.resumption.timeoutSec }),
  } as const;
}

export type ListenerName = 'mqtts' | 'wss' | 'mqtt' | 'ws';

/** PROXY protocol settings for the TLS and WSS listeners (broker/net/proxy-protocol.ts). */
export type ProxyOptions = Omit<ProxyFrontOptions, 'listener'>;

export interface Listener {
  readonly name: ListenerName;
  readonly port: number;
  close(): Promise<void>;
}

type AnyServer = TcpServer | HttpServer;

/** The setting that chose each listener's port, named when it cannot listen. */
export const PORT_SETTINGS = {
  mqtts: 'MQTTS_PORT',
  wss: 'WSS_PORT',
  mqtt: 'MQTT_PORT',
  ws: 'WS_PORT',
} as const satisfies Record<ListenerName, Setting>;

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function bindFailure(setting: Setting, host: string, port: number, reason: string): string {
  const at = hostPort(host, port);
  switch (reason) {
    case 'EADDRINUSE':
      return `${setting}: ${at} is already in use`;
    case 'EACCES':
      return `${setting}: ${at} may not be bound by this user (EACCES)`;
    case 'EADDRNOTAVAIL':
      return `HOST: ${host} is not an address of this machine (EADDRNOTAVAIL)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `HOST: ${host} does not resolve (${reason})`;
    default:
      return `${setting}: cannot listen on ${at} (${reason})`;
  }
}

/** Why a listener could not bind, as one ERR_START_FAILED line naming the setting to change. */
export function listenError(name: ListenerName, host: string, port: number, cause: unknown): CashewError {
  return new CashewError('ERR_START_FAILED', bindFailure(PORT_SETTINGS[name], host, port, reasonOf(cause)), {
    cause,
  });
}

/**
 * Connections the kernel may hold accepted before the broker takes them (capped by the kernel at
 * net.core.somaxconn). Node's default, 511, overflows when thousands of devices reconnect at once: the
 * kernel then drops their handshakes' last ACK and the devices see resets and retry (docs/performance.md,
 * reconnect storm).
 */
export const LISTEN_BACKLOG = 4096;

async function listen(server: AnyServer, name: ListenerName, port: number, host: string): Promise<number> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, LISTEN_BACKLOG, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (cause) {
    throw listenError(name, host, port, cause);
  }
  return (server.address() as AddressInfo).port;
}

function closer(server: AnyServer, wss?: WebSocketServer, behind?: AnyServer): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      wss?.close();
      server.close(() => resolve());
      if ('closeAllConnections' in server) server.closeAllConnections();
      if (behind !== undefined && 'closeAllConnections' in behind) behind.closeAllConnections();
    });
}

/** The server that listens: `server` itself, or a PROXY protocol front handing sockets to it. */
function listeningServer(server: TcpServer, listener: ListenerName, proxy?: ProxyOptions): TcpServer {
  return proxy === undefined ? server : proxyProtocolFront(server, { ...proxy, listener });
}

/** A WebSocket frame may carry one largest packet and the start of the next. */
const WS_FRAME_OVERHEAD = 1024;

function attachWebSocket(sink: MqttSink, server: HttpServer): WebSocketServer {
  const { maxPacketSize, maxConnectPacketSize } = sink.limits;
  const wss = new WebSocketServer({
    server,
    path: WEBSOCKET_PATH,
    perMessageDeflate: false,
    // ws buffers a whole frame before the stream sees it (its default allows 100 MiB).
    maxPayload: Math.max(maxPacketSize, maxConnectPacketSize) + WS_FRAME_OVERHEAD,
  });
  // ws re-emits the HTTP server's errors; a failed listen() is already reported by listen() above.
  wss.on('error', () => {});
  wss.on('connection', (socket, request) => {
    const stream = createWebSocketStream(socket);
    stream.on('error', () => socket.terminate());
    acceptMqtt(sink, stream, request.socket.remoteAddress, request);
  });
  return wss;
}

export async function startMqttsListener(
  sink: MqttSink,
  tls: TlsMaterial,
  port: number,
  host: string,
  proxy?: ProxyOptions,
): Promise<Listener> {
  const { handshakeTimeout } = handshakeServerOptions(sink.limits);
  const server = createTlsServer({ ...tlsServerOptions(tls), handshakeTimeout }, (socket) => {
    socket.setNoDelay(true); // MQTT packets are small and latency-bound: Nagle added ~40 ms per reply
    acceptMqtt(sink, socket, socket.remoteAddress);
  });
  server.on('tlsClientError', onTlsClientError(sink.logger));
  tls.resumption?.tickets?.attach(server);
  const front = listeningServer(server, 'mqtts', proxy);
  return { name: 'mqtts', port: await listen(front, 'mqtts', port, host), close: closer(front) };
}

export async function startWssListener(
  sink: MqttSink,
  tls: TlsMaterial,
  port: number,
  host: string,
  onRequest: Route,
  proxy?: ProxyOptions,
): Promise<Listener> {
  const server = createHttpsServer(
    { ...tlsServerOptions(tls), ...handshakeServerOptions(sink.limits) },
    (req, res) => {
      void onRequest(req, res);
    },
  );
  server.on('tlsClientError', onTlsClientError(sink.logger));
  tls.resumption?.tickets?.attach(server);
  closeIdleUpgrades(server, sink.limits, sink.logger);
  const wss = attachWebSocket(sink, server);
  if (proxy === undefined)
    return { name: 'wss', port: await listen(server, 'wss', port, host), close: closer(server, wss) };
  const front = listeningServer(server, 'wss', proxy);
  return { name: 'wss', port: await listen(front, 'wss', port, host), close: closer(front, wss, server) };
}

export async function startMqttListener(sink: MqttSink, port: number, host: string): Promise<Listener> {
  const server = createTcpServer((socket) => {
    socket.setNoDelay(true);
    acceptMqtt(sink, socket, socket.remoteAddress);
  });
  return { name: 'mqtt', port: await listen(server, 'mqtt', port, host), close: closer(server) };
}

export async function startWsListener(
  sink: MqttSink,
  port: number,
  host: string,
  onRequest: Route,
): Promise<Listener> {
  const server = createHttpServer(handshakeServerOptions(sink.limits), (req, res) => {
    void onRequest(req, res);
  });
  closeIdleUpgrades(server, sink.limits, sink.logger);
  const wss = attachWebSocket(sink, server);
  return { name: 'ws', port: await listen(server, 'ws', port, host), close: closer(server, wss) };
}
