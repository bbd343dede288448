// The connect gate over real sockets: a connect rate per source address that refuses before any
// signature check, flapping client ids, connections per user and in total — each CONNACK 3, audited.
import { afterEach, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { skipInMode, startTestBroker, type TestBroker } from '../support/broker.ts';
import { closeAll, connectClient, connected, refusalCode } from '../support/clients.ts';
import { handlerToken, userToken } from '../support/tokens.ts';

const SERVER_UNAVAILABLE = 3;
const NOT_AUTHORIZED = 5;

let broker: TestBroker | undefined;
let other: TestBroker | undefined;
const clients: MqttClient[] = [];

afterEach(async () => {
  await closeAll(...clients.splice(0));
  await broker?.close();
  await other?.close();
  broker = other = undefined;
});

function refusalsOf(test: TestBroker, code: string): Record<string, unknown>[] {
  return test.logLines.filter((line) => line.audit === 'refused' && line.code === code);
}

describe('connect limits', () => {
  it('refuses CONNECTs past the per-address rate with CONNACK 3, before checking their signature', async () => {
    const test = (broker = await startTestBroker({
      CONNECT_RATE_PER_ADDRESS: '1',
      CONNECT_BURST_PER_ADDRESS: '5',
    }));
    const forged = userToken('7070').replace(/\.[^.]+$/, '.AAAA');
    const codes: number[] = [];
    for (let i = 0; i < 8; i += 1) {
      codes.push(await refusalCode(connectClient(test, 'mqtts', `7070/d${i}`, forged)));
    }
    expect(codes.slice(0, 5)).toEqual(Array(5).fill(NOT_AUTHORIZED));
    expect(codes.slice(5)).toEqual(Array(3).fill(SERVER_UNAVAILABLE));
    // Only the first five cost a signature check.
    expect(refusalsOf(test, 'ERR_TOKEN_SIGNATURE')).toHaveLength(5);
    expect(refusalsOf(test, 'ERR_CONNECT_RATE')[0]).toMatchObject({
      action: 'limit',
      identity: 'unknown',
      returnCode: SERVER_UNAVAILABLE,
      address: '127.0.0.1',
    });
  });

  it('refuses a client id that reconnects in a loop for FLAPPING_BAN_MS, then accepts it again', async () => {
    const test = (broker = await startTestBroker({ FLAPPING_MAX_CONNECTS: '3', FLAPPING_BAN_MS: '1500' }));
    const token = userToken('7171');
    for (let i = 0; i < 3; i += 1) {
      const client = await connected(connectClient(test, 'wss', '7171/loop', token));
      await closeAll(client);
    }
    expect(await refusalCode(connectClient(test, 'wss', '7171/loop', token))).toBe(SERVER_UNAVAILABLE);
    const line = await test.waitForLog((entry) => entry.code === 'ERR_FLAPPING');
    expect(line).toMatchObject({ clientId: '7171/loop', action: 'limit' });
    // Another device of the same user is not affected.
    clients.push(await connected(connectClient(test, 'wss', '7171/other', token)));
    await new Promise((resolve) => setTimeout(resolve, 1600)); // the ban is a duration: wait it out
    clients.push(await connected(connectClient(test, 'wss', '7171/loop', token)));
  });

  it('holds at most MAX_CONNECTIONS_PER_USER connections of one user; a closed one frees its place', async () => {
    const test = (broker = await startTestBroker({ MAX_CONNECTIONS_PER_USER: '2' }));
    const token = userToken('7272');
    const first = await connected(connectClient(test, 'mqtts', '7272/a', token));
    clients.push(await connected(connectClient(test, 'wss', '7272/b', token)));
    expect(await refusalCode(connectClient(test, 'mqtts', '7272/c', token))).toBe(SERVER_UNAVAILABLE);
    expect(refusalsOf(test, 'ERR_TOO_MANY_CONNECTIONS')[0]).toMatchObject({ identity: 'user:7272' });
    // Other users are not affected.
    clients.push(await connected(connectClient(test, 'mqtts', '7273/a', userToken('7273'))));
    const gone = new Promise<void>((resolve) =>
      test.aedes.on('clientDisconnect', (client) => {
        if (client.id === '7272/a') resolve();
      }),
    );
    await closeAll(first);
    await gone;
    clients.push(await connected(connectClient(test, 'mqtts', '7272/c', token)));
  });

  it('holds MAX_CONNECTIONS_PER_USER over two nodes sharing Redis', async (context) => {
    skipInMode(context, 'memory', 'one node: the count over nodes needs Redis');
    const limit = { MAX_CONNECTIONS_PER_USER: '2' };
    const a = (broker = await startTestBroker({ ...limit, NODE_ID: 'user-count-a' }));
    const b = (other = await startTestBroker({ ...limit, NODE_ID: 'user-count-b' }));
    const token = userToken('7474');
    const first = await connected(connectClient(a, 'mqtts', '7474/a', token));
    clients.push(await connected(connectClient(b, 'mqtts', '7474/b', token)));
    expect(await refusalCode(connectClient(b, 'wss', '7474/c', token))).toBe(SERVER_UNAVAILABLE);
    expect(await refusalCode(connectClient(a, 'wss', '7474/c', token))).toBe(SERVER_UNAVAILABLE);
    expect(refusalsOf(b, 'ERR_TOO_MANY_CONNECTIONS')[0]).toMatchObject({ identity: 'user:7474' });
    // A device that leaves node a frees its place for a device on node b.
    const gone = new Promise<void>((resolve) =>
      a.aedes.on('clientDisconnect', (client) => {
        if (client.id === '7474/a') resolve();
      }),
    );
    await closeAll(first);
    await gone;
    // The count of node a reaches Redis a moment after its client is gone.
    const connects = async (): Promise<string> => {
      const client = connectClient(b, 'mqtts', '7474/c', token);
      try {
        clients.push(await connected(client));
        return 'connected';
      } catch {
        await closeAll(client);
        return 'refused';
      }
    };
    await expect.poll(connects, { timeout: 5000, interval: 200 }).toBe('connected');
  });

  it('holds at most MAX_CONNECTIONS in total, handlers included', async () => {
    const test = (broker = await startTestBroker({ MAX_CONNECTIONS: '2' }));
    clients.push(await connected(connectClient(test, 'mqtts', '7373/a', userToken('7373'))));
    clients.push(
      await connected(
        connectClient(test, 'mqtts', '$handler/ping/x', handlerToken('ping', ['ping'], ['pong'])),
      ),
    );
    expect(await refusalCode(connectClient(test, 'wss', '7374/a', userToken('7374')))).toBe(
      SERVER_UNAVAILABLE,
    );
    expect(refusalsOf(test, 'ERR_TOO_MANY_CONNECTIONS')).toHaveLength(1);
  });
});
