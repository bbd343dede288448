// The connections a stop that cannot wait for aedes destroys (broker/net/connection-bounds.ts): the
// registered clients and those aedes has not registered yet, which aedes' own close does not know of.
// The set of the latter is bounded: a flood of connections that never CONNECT leaves at most twice
// those still open (plus a small floor), and an admitted client leaves it at once.
import { once } from 'node:events';
import { connect as tcpConnect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../broker/index.ts';
import { resolveLimits } from '../../broker/limits/limits.ts';
import {
  acceptMqtt,
  destroyOpenConnections,
  unadmittedConnections,
  type MqttSink,
} from '../../broker/net/connection-bounds.ts';
import { connectBare, nextEvent } from '../support/bare-aedes.ts';
import { closeAll } from '../support/clients.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function listening(): Promise<{ sink: MqttSink; server: Server; port: number }> {
  const aedes = await Aedes.createBroker({});
  const sink: MqttSink = { aedes, limits: resolveLimits({}), logger: createLogger('fatal') };
  const server = createServer((socket) => acceptMqtt(sink, socket, socket.remoteAddress));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(
    () => new Promise((resolve) => aedes.close(() => resolve(undefined))),
    () => new Promise((resolve) => server.close(resolve)),
  );
  return { sink, server, port: (server.address() as AddressInfo).port };
}

async function openSocket(port: number): Promise<Socket> {
  const socket = tcpConnect(port, '127.0.0.1');
  await once(socket, 'connect');
  cleanups.push(() => Promise.resolve(socket.destroy()));
  return socket;
}

function serverConnections(server: Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.getConnections((error, count) => (error === null ? resolve(count) : reject(error))),
  );
}

describe('connection-bounds: the connections aedes has not registered', () => {
  it('an admitted client leaves them at its CONNACK', async () => {
    const { sink, port } = await listening();
    const client = await connectBare(`mqtt://127.0.0.1:${port}`, { clientId: 'admitted' });
    cleanups.push(() => closeAll(client));
    expect(unadmittedConnections(sink)).toBe(0);
    const silent = await openSocket(port); // never sends a CONNECT: stays until it closes
    await expect.poll(() => unadmittedConnections(sink)).toBe(1);
    silent.destroy();
  });

  it('stay bounded under connections that never CONNECT: pruned of closed ones as the set doubles', async () => {
    const { sink, server, port } = await listening();
    const AT_ONCE = 50;
    let largest = 0;
    for (let round = 0; round < 10; round++) {
      const sockets = await Promise.all(Array.from({ length: AT_ONCE }, () => openSocket(port)));
      await expect.poll(() => serverConnections(server)).toBe(AT_ONCE);
      largest = Math.max(largest, unadmittedConnections(sink));
      for (const socket of sockets) socket.destroy();
      await expect.poll(() => serverConnections(server)).toBe(0);
    }
    // 500 connections, 50 open at a time: at most twice those open plus the floor of 64 are held.
    expect(largest).toBeGreaterThanOrEqual(AT_ONCE);
    expect(largest).toBeLessThanOrEqual(2 * AT_ONCE + 64);
  });

  it('destroyOpenConnections closes the registered clients and the connections still waiting', async () => {
    const { sink, port } = await listening();
    const client = await connectBare(`mqtt://127.0.0.1:${port}`, { clientId: 'registered' });
    cleanups.push(() => closeAll(client));
    const silent = await openSocket(port); // never sends a CONNECT
    await expect.poll(() => unadmittedConnections(sink)).toBeGreaterThan(0);
    const closed = Promise.all([nextEvent(client, 'close'), nextEvent(silent, 'close')]);
    expect(destroyOpenConnections(sink)).toBe(2);
    await closed;
  });
});
