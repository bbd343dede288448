// Kicks, bans of each kind and revocations through the admin API, over real sockets: refused at
// CONNECT with CONNACK 5 and an audit line, and live connections closed within a second. Runs on the
// in-memory broker and on a Redis-backed one (CASHEW_TEST_MODE).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { closeAll, closed, connectClient, connected, refusalCode } from '../support/clients.ts';
import { userToken } from '../support/tokens.ts';
import { adminCall, errorCodeOf, eventually } from '../support/admin.ts';

const NOT_AUTHORIZED = 5;

let broker: TestBroker;
const clients: MqttClient[] = [];

beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});
afterEach(async () => {
  await closeAll(...clients.splice(0));
  // Each test starts with no ban in force (an address ban would refuse every other test's clients).
  const { bans } = (await adminCall(broker.adminUrl, '/api/bans')).body as {
    bans: { kind: string; value: string }[];
  };
  for (const ban of bans) {
    const query = `kind=${ban.kind}&value=${encodeURIComponent(ban.value)}`;
    await adminCall(broker.adminUrl, `/api/bans?${query}`, { method: 'DELETE' });
  }
});

function device(clientId: string, token: string): Promise<MqttClient> {
  const client = connectClient(broker, 'mqtts', clientId, token);
  clients.push(client);
  return connected(client);
}

function refused(clientId: string, token: string): Promise<number> {
  const client = connectClient(broker, 'wss', clientId, token);
  clients.push(client);
  return refusalCode(client);
}

function post(path: string, body: unknown): ReturnType<typeof adminCall> {
  return adminCall(broker.adminUrl, path, { body });
}

async function closedWithin(client: MqttClient, ms: number): Promise<number> {
  const started = Date.now();
  await closed(client, ms);
  return Date.now() - started;
}

describe('kick', () => {
  it('closes one client id, and every connection of a user', async () => {
    const phone = await device('5001/phone', userToken('5001'));
    const tablet = await device('5001/tablet', userToken('5001'));
    const other = await device('5002/phone', userToken('5002'));
    const one = closed(phone, 1000);
    expect((await post('/api/kick', { clientId: '5001/phone' })).body).toMatchObject({ closed: 1 });
    await one;
    expect(tablet.connected).toBe(true);
    const all = closed(tablet, 1000);
    expect((await post('/api/kick', { userId: '5001' })).body).toMatchObject({ closed: 1 });
    await all;
    expect(other.connected).toBe(true);
    await broker.waitForLog((line) => line.audit === 'refused' && line.code === 'ERR_KICKED');
    await broker.waitForLog((line) => line.audit === 'admin' && line.action === 'kick');
    // A kick is not a ban: the user may come back.
    await device('5001/phone', userToken('5001'));
  });
});

describe('bans', () => {
  it.each([
    ['user', '5101', '5101/phone'],
    ['clientId', '5102/phone', '5102/phone'],
    ['address', '127.0.0.0/8', '5103/phone'],
  ])(
    'a %s ban closes the live connection within a second and refuses CONNECT with 5',
    async (kind, value, clientId) => {
      const userId = clientId.split('/')[0] ?? '';
      const live = await device(clientId, userToken(userId));
      const closing = closedWithin(live, 1000);
      const answer = await post('/api/bans', { kind, value, ttlSec: 60, reason: 'test' });
      expect(answer.status).toBe(201);
      expect(await closing).toBeLessThan(1000);
      expect(await refused(clientId, userToken(userId))).toBe(NOT_AUTHORIZED);
      await broker.waitForLog(
        (line) =>
          line.audit === 'refused' &&
          line.action === 'connect' &&
          line.code === 'ERR_BANNED' &&
          line.clientId === clientId,
      );
      const removed = await adminCall(
        broker.adminUrl,
        `/api/bans?kind=${kind}&value=${encodeURIComponent(value)}`,
        {
          method: 'DELETE',
        },
      );
      expect(removed.status).toBe(200);
      await device(clientId, userToken(userId));
    },
  );

  it('a jti ban refuses that token only', async () => {
    const stolen = userToken('5201', { jti: 'stolen-1' });
    const live = await device('5201/phone', stolen);
    const closing = closed(live, 1000);
    expect((await post('/api/bans', { kind: 'jti', value: 'stolen-1', ttlSec: 60 })).status).toBe(201);
    await closing;
    expect(await refused('5201/phone', stolen)).toBe(NOT_AUTHORIZED);
    await broker.waitForLog((line) => line.code === 'ERR_TOKEN_REVOKED' && line.action === 'connect');
    await device('5201/phone', userToken('5201', { jti: 'fresh-1' }));
  });

  it('expires: refused while in force, admitted after', async () => {
    expect((await post('/api/bans', { kind: 'user', value: '5301', ttlSec: 1 })).status).toBe(201);
    expect(await refused('5301/phone', userToken('5301'))).toBe(NOT_AUTHORIZED);
    await eventually(async () => {
      const { body } = await adminCall(broker.adminUrl, '/api/bans');
      return !(body as { bans: { value: string }[] }).bans.some((ban) => ban.value === '5301');
    }, 2500);
    await device('5301/phone', userToken('5301'));
  });
});

describe('revoke', () => {
  it('closes live connections whose token was issued before now, and admits newer tokens', async () => {
    const issuedAt = Math.floor(Date.now() / 1000) - 10;
    const live = await device('5401/phone', userToken('5401', { iat: issuedAt }));
    const closing = closedWithin(live, 1000);
    const answer = await post('/api/revoke', { userId: '5401', ttlSec: 3600 });
    expect(answer.body).toMatchObject({ ban: { kind: 'issuedBefore', value: '5401' }, closed: 1 });
    expect(await closing).toBeLessThan(1000);
    expect(await refused('5401/phone', userToken('5401', { iat: issuedAt }))).toBe(NOT_AUTHORIZED);
    // A token issued after the cut-off (the next second) is admitted.
    await device('5401/phone', userToken('5401', { iat: Math.floor(Date.now() / 1000) + 1 }));
    await broker.waitForLog((line) => line.audit === 'admin' && line.action === 'revoke');
  });
});

describe('admin API input', () => {
  it('answers clear JSON errors, and refuses a Host that is not loopback (DNS rebinding)', async () => {
    const cases: [string, unknown, string][] = [
      ['/api/bans', { kind: 'nope', value: 'x' }, 'ERR_ADMIN_BAD_REQUEST'],
      ['/api/bans', { kind: 'address', value: '300.1.1.1' }, 'ERR_ADMIN_BAD_REQUEST'],
      ['/api/bans', { kind: 'user', value: 'a/b' }, 'ERR_ADMIN_BAD_REQUEST'],
      ['/api/bans', { kind: 'user', value: '1', ttlSec: -1 }, 'ERR_ADMIN_BAD_REQUEST'],
      ['/api/kick', {}, 'ERR_ADMIN_BAD_REQUEST'],
      ['/api/revoke', { userId: '#' }, 'ERR_ADMIN_BAD_REQUEST'],
    ];
    for (const [path, body, code] of cases) {
      const answer = await post(path, body);
      expect(answer.status).toBe(400);
      expect(errorCodeOf(answer)).toBe(code);
    }
    const form = await adminCall(broker.adminUrl, '/api/kick', {
      body: { userId: '1' },
      contentType: 'text/plain',
    });
    expect(form.status).toBe(400);
    const rebound = await adminCall(broker.adminUrl, '/api/clients', { host: 'evil.example:9883' });
    expect(rebound.status).toBe(401);
    expect(errorCodeOf(rebound)).toBe('ERR_ADMIN_UNAUTHORIZED');
    expect((await adminCall(broker.adminUrl, '/api/clients', { host: 'localhost:9883' })).status).toBe(200);
    const unknown = await adminCall(broker.adminUrl, '/api/nothing');
    expect(unknown.status).toBe(404);
    expect(errorCodeOf(unknown)).toBe('ERR_ADMIN_NOT_FOUND');
  });
});
