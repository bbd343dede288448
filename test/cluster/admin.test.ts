// The admin API across two broker processes on one Redis: a kick, a ban of each kind or a revocation
// made on one node closes the matching live connections on the other within a second and refuses
// their CONNECT there (CONNACK 5); expiries hold on both; a ban outlives a restart of every node.
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connected, refusalCode } from '../support/clients.ts';
import { userToken } from '../support/tokens.ts';
import { adminCall, eventually } from '../support/admin.ts';
import { closedByBroker, connectTo, startBrokerProcess, type BrokerProcess } from './support/nodes.ts';
import { startTestRedis, type TestRedis } from './support/redis.ts';

const NOT_AUTHORIZED = 5;
const SETTINGS = { ADMIN_PORT: '0', CLUSTER_HEARTBEAT_MS: '500' };

let redis: TestRedis;
let a: BrokerProcess;
let b: BrokerProcess;
const open: MqttClient[] = [];

function client(node: BrokerProcess, clientId: string, token: string): MqttClient {
  const mqttClient = connectTo(node, clientId, token);
  open.push(mqttClient);
  return mqttClient;
}

function admin(node: BrokerProcess, path: string, body?: unknown, method?: string) {
  return adminCall(node.adminUrl ?? '', path, {
    ...(body !== undefined && { body }),
    ...(method !== undefined && { method }),
  });
}

async function closedWithin(mqttClient: MqttClient, ms: number): Promise<number> {
  const started = Date.now();
  await closedByBroker(mqttClient, ms);
  return Date.now() - started;
}

async function bansOf(node: BrokerProcess): Promise<{ kind: string; value: string }[]> {
  return ((await admin(node, '/api/bans')).body as { bans: { kind: string; value: string }[] }).bans;
}

beforeAll(async () => {
  redis = await startTestRedis();
  [a, b] = (await Promise.all(
    ['admin-a', 'admin-b'].map((id) => startBrokerProcess(id, redis.url, SETTINGS)),
  )) as [BrokerProcess, BrokerProcess];
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((mqttClient) => mqttClient.endAsync(true).catch(() => undefined)));
  for (const ban of await bansOf(a)) {
    await admin(a, `/api/bans?kind=${ban.kind}&value=${encodeURIComponent(ban.value)}`, undefined, 'DELETE');
  }
});

afterAll(async () => {
  await Promise.all([a, b].map((node) => node?.stop()));
  await redis?.dispose();
});

describe('admin actions across two nodes on Redis', () => {
  it('kicks a client id, and every connection of a user, on the other node', async () => {
    const onB = await connected(client(b, '7001/phone', userToken('7001')));
    const closing = closedWithin(onB, 1000);
    expect((await admin(a, '/api/kick', { clientId: '7001/phone' })).status).toBe(200);
    expect(await closing).toBeLessThan(1000);
    const phone = await connected(client(a, '7002/phone', userToken('7002')));
    const tablet = await connected(client(b, '7002/tablet', userToken('7002')));
    const both = Promise.all([closedWithin(phone, 1000), closedWithin(tablet, 1000)]);
    expect((await admin(b, '/api/kick', { userId: '7002' })).status).toBe(200);
    await both;
  });

  it.each([
    ['user', '7101', '7101/phone', {}],
    ['clientId', '7102/phone', '7102/phone', {}],
    ['address', '127.0.0.1', '7103/phone', {}],
    ['jti', 'stolen-7104', '7104/phone', { jti: 'stolen-7104' }],
  ])(
    'a %s ban made on one node closes the live connection on the other and refuses CONNECT there',
    async (kind, value, clientId, claims) => {
      const userId = clientId.split('/')[0] ?? '';
      const token = userToken(userId, claims);
      const onB = await connected(client(b, clientId, token));
      const closing = closedWithin(onB, 1000);
      expect((await admin(a, '/api/bans', { kind, value, ttlSec: 60 })).status).toBe(201);
      expect(await closing).toBeLessThan(1000);
      expect(await refusalCode(client(b, clientId, token))).toBe(NOT_AUTHORIZED);
      expect(await refusalCode(client(a, clientId, token))).toBe(NOT_AUTHORIZED);
      expect((await bansOf(b)).map((ban) => ban.value)).toContain(value);
      // Lifted on one node, lifted on both.
      await admin(b, `/api/bans?kind=${kind}&value=${encodeURIComponent(value)}`, undefined, 'DELETE');
      await connected(client(a, clientId, token));
    },
  );

  it('revokes by iat on every node: older tokens closed and refused, newer admitted', async () => {
    const old = userToken('7201', { iat: Math.floor(Date.now() / 1000) - 10 });
    const onA = await connected(client(a, '7201/phone', old));
    const closing = closedWithin(onA, 1000);
    expect((await admin(b, '/api/revoke', { userId: '7201', ttlSec: 3600 })).status).toBe(201);
    expect(await closing).toBeLessThan(1000);
    expect(await refusalCode(client(a, '7201/phone', old))).toBe(NOT_AUTHORIZED);
    const fresh = userToken('7201', { iat: Math.floor(Date.now() / 1000) + 1 });
    await connected(client(a, '7201/phone', fresh));
  });

  it('lets a ban expire on both nodes', async () => {
    expect((await admin(a, '/api/bans', { kind: 'user', value: '7301', ttlSec: 1 })).status).toBe(201);
    expect(await refusalCode(client(b, '7301/phone', userToken('7301')))).toBe(NOT_AUTHORIZED);
    await eventually(async () => (await bansOf(b)).length === 0 && (await bansOf(a)).length === 0, 2500);
    await connected(client(b, '7301/phone', userToken('7301')));
  });

  it('keeps a ban across a restart of every node', async () => {
    expect((await admin(a, '/api/bans', { kind: 'user', value: '7401', ttlSec: 600 })).status).toBe(201);
    await Promise.all([a.stop(), b.stop()]);
    [a, b] = (await Promise.all(
      ['admin-a', 'admin-b'].map((id) => startBrokerProcess(id, redis.url, SETTINGS)),
    )) as [BrokerProcess, BrokerProcess];
    expect((await bansOf(b)).map((ban) => ban.value)).toEqual(['7401']);
    expect(await refusalCode(client(b, '7401/phone', userToken('7401')))).toBe(NOT_AUTHORIZED);
    await b.waitForLog((line) => line.audit === 'refused' && line.code === 'ERR_BANNED');
  });
});
