// TLS session resumption across nodes: with the same TLS_TICKET_SECRET, a session a device got from
// one broker resumes on another (MQTTS and the WSS port); without it, tickets are per process.
import { connect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../support/broker.ts';

const SECRET = 'ticket-secret-shared-by-every-node-0123456789';
let nodeA: TestBroker;
let nodeB: TestBroker;
let stranger: TestBroker;

beforeAll(async () => {
  [nodeA, nodeB, stranger] = await Promise.all([
    startTestBroker({ TLS_TICKET_SECRET: SECRET }),
    startTestBroker({ TLS_TICKET_SECRET: SECRET }),
    startTestBroker(),
  ]);
});

afterAll(async () => {
  await Promise.all([nodeA, nodeB, stranger].map((broker) => broker.close()));
});

/**
 * A TLS handshake: without a session, resolves with the session the server issues (TLS 1.3 sends it
 * after the handshake); with one, resolves once the handshake is done, with whether it resumed.
 */
function handshake(port: number, session?: Buffer): Promise<{ resumed: boolean; session?: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      rejectUnauthorized: false,
      ...(session !== undefined && { session }),
    });
    socket.once('error', reject);
    if (session !== undefined) {
      socket.once('secureConnect', () => {
        resolve({ resumed: socket.isSessionReused() });
        socket.destroy();
      });
      return;
    }
    socket.once('session', (issued: Buffer) => {
      resolve({ resumed: socket.isSessionReused(), session: issued });
      socket.destroy();
    });
  });
}

describe('TLS_TICKET_SECRET', () => {
  it.each(['mqtts', 'wss'] as const)('a %s session from one node resumes on another node', async (port) => {
    const first = await handshake(nodeA.ports[port] ?? 0);
    expect(first.resumed).toBe(false);
    const again = await handshake(nodeB.ports[port] ?? 0, first.session);
    expect(again.resumed).toBe(true);
  });

  it('a session does not resume on a node with other ticket keys', async () => {
    const first = await handshake(nodeA.ports.mqtts ?? 0);
    const elsewhere = await handshake(stranger.ports.mqtts ?? 0, first.session);
    expect(elsewhere.resumed).toBe(false);
  });
});
