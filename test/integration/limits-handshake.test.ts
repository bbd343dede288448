// Handshake timeouts over real sockets: a peer that never sends a TLS ClientHello (MQTTS, WSS), or
// finishes TLS and never sends the WebSocket upgrade, is closed after HANDSHAKE_TIMEOUT_MS.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { closeAll, connectClient, connected, TRANSPORTS } from '../support/clients.ts';
import { userToken } from '../support/tokens.ts';

/** Long enough for a real client's handshake on a loaded 2-core machine. */
const HANDSHAKE_TIMEOUT_MS = 1000;
/** Node checks expired HTTP requests every quarter of the timeout; allow for a loaded machine. */
const CLOSED_WITHIN_MS = 5_000;

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker({ HANDSHAKE_TIMEOUT_MS: String(HANDSHAKE_TIMEOUT_MS) });
});
afterAll(async () => {
  await broker.close();
});

/** Resolves with how long after opening the broker closed `socket`; rejects after `CLOSED_WITHIN_MS`. */
function closedAfter(socket: Socket, openedAt: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('the broker kept an idle socket open'));
    }, CLOSED_WITHIN_MS);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - openedAt);
    });
  });
}

function openTcp(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('handshake timeouts', () => {
  for (const transport of TRANSPORTS) {
    it(`${transport}: closes sockets that never send a TLS ClientHello, and audits it`, async () => {
      const port = broker.ports[transport] ?? 0;
      const sockets = await Promise.all(Array.from({ length: 20 }, () => openTcp(port)));
      const openedAt = Date.now();
      const durations = await Promise.all(sockets.map((socket) => closedAfter(socket, openedAt)));
      for (const duration of durations) expect(duration).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT_MS - 50);
      const line = await broker.waitForLog((entry) => entry.code === 'ERR_HANDSHAKE_TIMEOUT');
      expect(line).toMatchObject({ audit: 'refused', action: 'limit', address: '127.0.0.1' });
    });
  }

  it('wss: closes a socket that finishes TLS and never sends the upgrade request', async () => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port: broker.ports.wss ?? 0,
      ca: broker.ca,
      servername: 'localhost',
    });
    const openedAt = Date.now();
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => resolve());
      socket.once('error', reject);
    });
    const duration = await closedAfter(socket, openedAt);
    expect(duration).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT_MS - 50);
  });

  it('serves real clients while idle sockets are being cut, and keeps them past the timeout', async () => {
    const idle = await Promise.all(Array.from({ length: 20 }, () => openTcp(broker.ports.mqtts ?? 0)));
    const openedAt = Date.now();
    const cut = Promise.all(idle.map((socket) => closedAfter(socket, openedAt)));
    const clients = await Promise.all(
      TRANSPORTS.map((transport) =>
        connected(connectClient(broker, transport, `6060/${transport}`, userToken('6060'))),
      ),
    );
    await cut;
    // Past the handshake timeout, established connections are untouched.
    for (const client of clients) {
      expect(client.connected).toBe(true);
      await client.publishAsync('6060/still-here', 'yes', { qos: 1 });
    }
    await closeAll(...clients);
  });
});
