// A bare aedes instance (no Cashew hooks unless given) on plain loopback TCP and WebSocket ports, for
// the tests that pin aedes and mqtt.js internals against the real thing.
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server } from 'node:net';
import { Aedes, type AedesOptions, type Client } from 'aedes';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterEach } from 'vitest';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { closeAll } from './clients.ts';

export interface BareAedes {
  readonly aedes: Aedes;
  readonly tcpUrl: string;
  readonly wsUrl: string;
  close(): Promise<void>;
}

function portOf(server: Server | ReturnType<typeof createHttpServer>): number {
  return (server.address() as AddressInfo).port;
}

export async function startBareAedes(options: AedesOptions = {}): Promise<BareAedes> {
  const aedes = await Aedes.createBroker(options);
  const tcp = createTcpServer((socket) => aedes.handle(socket));
  const http = createHttpServer();
  const wss = new WebSocketServer({ server: http, path: '/mqtt' });
  wss.on('connection', (socket, request) => {
    const stream = createWebSocketStream(socket);
    stream.on('error', () => socket.terminate());
    aedes.handle(stream, request);
  });
  tcp.listen(0, '127.0.0.1');
  http.listen(0, '127.0.0.1');
  await Promise.all([once(tcp, 'listening'), once(http, 'listening')]);
  return {
    aedes,
    tcpUrl: `mqtt://127.0.0.1:${portOf(tcp)}`,
    wsUrl: `ws://127.0.0.1:${portOf(http)}/mqtt`,
    close: async () => {
      wss.close();
      http.closeAllConnections();
      await Promise.all([
        new Promise((resolve) => tcp.close(resolve)),
        new Promise((resolve) => http.close(resolve)),
        new Promise<void>((resolve) => aedes.close(() => resolve())),
      ]);
    },
  };
}

/** A plain mqtt.js client (MQTT 3.1.1, no reconnect), connected. */
export function connectBare(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...options });
}

/** Resolves with the arguments of the next `event`, or rejects after `timeoutMs`. */
export function nextEvent<T extends unknown[]>(
  emitter: NodeJS.EventEmitter | MqttClient,
  event: string,
  timeoutMs = 5000,
): Promise<T> {
  // mqtt.js types its client as a typed emitter, not a NodeJS.EventEmitter; it is one at runtime
  const plain = emitter as NodeJS.EventEmitter;
  return once(plain, event, { signal: AbortSignal.timeout(timeoutMs) }) as Promise<T>;
}

/** Bare brokers and clients for one test file, closed after each test. */
export interface BareFixture {
  readonly start: (options?: AedesOptions) => Promise<BareAedes>;
  readonly connect: (url: string, options?: IClientOptions) => Promise<MqttClient>;
  /** Closes a client the test connected itself after the test. */
  readonly track: (client: MqttClient) => MqttClient;
  /** The broker-side Client of the next connection. */
  readonly nextClient: (bare: BareAedes) => Promise<Client>;
}

/** Call at the top of a test file: registers the afterEach that closes what the tests opened. */
export function useBareAedes(): BareFixture {
  let broker: BareAedes | undefined;
  const clients: MqttClient[] = [];
  afterEach(async () => {
    await closeAll(...clients.splice(0));
    await broker?.close();
    broker = undefined;
  });
  const track = (client: MqttClient): MqttClient => {
    clients.push(client);
    return client;
  };
  return {
    start: async (options = {}) => (broker = await startBareAedes(options)),
    connect: async (url, options = {}) => track(await connectBare(url, options)),
    track,
    nextClient: (bare) => nextEvent<[Client]>(bare.aedes, 'client').then(([client]) => client),
  };
}
