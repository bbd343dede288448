// Raw Aedes, the baseline: the same aedes version and Cashew's AEDES_TUNING, no hooks, default
// in-memory persistence, on a plain TCP, a TLS and a secure WebSocket listener (path /mqtt, like
// Cashew's: an HTTPS server, ws without permessage-deflate, createWebSocketStream) with the same socket
// option as Cashew's listeners (TCP_NODELAY, without which small replies waited ~40 ms): "Cashew minus
// Cashew's code". BENCH_NODELAY=0 gives aedes' own default (Nagle on), to measure what TCP_NODELAY costs.
import { createServer } from 'node:net';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTlsServer } from 'node:tls';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { AEDES_TUNING } from '../../broker/aedes/tuning.ts';
import { WEBSOCKET_PATH } from '../lib/mqtt-websocket.ts';
import { serveBenchControl } from './control.ts';

const aedes = await Aedes.createBroker({ ...AEDES_TUNING });
const noDelay = process.env.BENCH_NODELAY !== '0';
const tlsOptions = {
  cert: readFileSync(process.env.BENCH_TLS_CERT ?? ''),
  key: readFileSync(process.env.BENCH_TLS_KEY ?? ''),
  minVersion: 'TLSv1.2',
} as const;
const tcp = createServer((socket) => {
  socket.setNoDelay(noDelay);
  aedes.handle(socket);
});
const tls = createTlsServer(tlsOptions, (socket) => {
  socket.setNoDelay(noDelay);
  aedes.handle(socket);
});
tls.on('tlsClientError', () => undefined);
// An HTTPS server sets TCP_NODELAY on its sockets by itself when `noDelay` is true (Node's default).
const https = createHttpsServer({ ...tlsOptions, noDelay }, (_request, response) => {
  response.writeHead(404).end();
});
https.on('tlsClientError', () => undefined);
const webSockets = new WebSocketServer({ server: https, path: WEBSOCKET_PATH, perMessageDeflate: false });
webSockets.on('error', () => undefined);
webSockets.on('connection', (webSocket, request) => {
  const stream = createWebSocketStream(webSocket);
  stream.on('error', () => webSocket.terminate());
  aedes.handle(stream, request);
});
await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
serveBenchControl(
  {
    mqtt: (tcp.address() as AddressInfo).port,
    mqtts: (tls.address() as AddressInfo).port,
    wss: (https.address() as AddressInfo).port,
  },
  () =>
    new Promise<void>((resolve) => {
      tcp.close();
      tls.close();
      webSockets.close();
      https.close();
      https.closeAllConnections();
      aedes.close(() => resolve());
    }),
);
