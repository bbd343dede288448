// The verified-token cache over real sockets: a device reconnecting with the token it used before is
// recalled (counted in /metrics as a hit), and a ban or a revocation still refuses it with CONNACK 5;
// a token past its exp is refused though it was cached; JWT_CACHE_SIZE=0 looks nothing up. Runs on
// the in-memory broker and on a Redis-backed one (CASHEW_TEST_MODE).
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import jwt from 'jsonwebtoken';
import { startTestBroker, TEST_SECRET, type TestBroker } from '../support/broker.ts';
import { closeAll, connectClient, connected, refusalCode, type Transport } from '../support/clients.ts';
import { userToken } from '../support/tokens.ts';
import { adminCall } from '../support/admin.ts';

const NOT_AUTHORIZED = 5;

const clients: MqttClient[] = [];
afterEach(async () => {
  await closeAll(...clients.splice(0));
});

async function connectAndLeave(broker: TestBroker, clientId: string, token: string, transport: Transport) {
  const client = connectClient(broker, transport, clientId, token);
  clients.push(client);
  await connected(client);
  await closeAll(client);
}

function refused(broker: TestBroker, clientId: string, token: string): Promise<number> {
  const client = connectClient(broker, 'mqtts', clientId, token);
  clients.push(client);
  return refusalCode(client);
}

/** `cashew_token_cache_lookups_total` by result, from the admin listener's /metrics. */
async function lookups(broker: TestBroker): Promise<{ hit: number; miss: number }> {
  const { text } = await adminCall(broker.adminUrl, '/metrics');
  const count = (result: string): number => {
    const line = new RegExp(
      `^cashew_token_cache_lookups_total\\{[^}]*result="${result}"[^}]*\\} (\\d+)$`,
      'm',
    ).exec(text);
    return Number(line?.[1] ?? 0);
  };
  return { hit: count('hit'), miss: count('miss') };
}

describe('the verified-token cache (default JWT_CACHE_SIZE)', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker({ JWT_CLOCK_TOLERANCE: '0' });
  });
  afterAll(async () => {
    await broker.close();
  });

  it('recalls the token of a reconnecting device over MQTTS and WSS', async () => {
    const token = userToken('7101');
    const before = await lookups(broker);
    await connectAndLeave(broker, '7101/phone', token, 'mqtts');
    await connectAndLeave(broker, '7101/phone', token, 'wss');
    await connectAndLeave(broker, '7101/phone', token, 'mqtts');
    const after = await lookups(broker);
    expect(after.miss - before.miss).toBe(1);
    expect(after.hit - before.hit).toBe(2);
  });

  it('a jti ban, a user ban and a revocation refuse a cached token with CONNACK 5', async () => {
    // Users of their own at each attempt: with Redis, bans outlive a failed attempt (its retry).
    const tag = randomUUID().slice(0, 8);
    const cases = [
      {
        userId: `7201-${tag}`,
        token: userToken(`7201-${tag}`, { jti: `cached-${tag}` }),
        ban: { kind: 'jti', value: `cached-${tag}` },
      },
      { userId: `7202-${tag}`, token: userToken(`7202-${tag}`), ban: { kind: 'user', value: `7202-${tag}` } },
      {
        userId: `7203-${tag}`,
        token: userToken(`7203-${tag}`, { iat: Math.floor(Date.now() / 1000) - 10 }),
        revoke: { userId: `7203-${tag}` },
      },
    ];
    for (const { userId, token } of cases) await connectAndLeave(broker, `${userId}/phone`, token, 'mqtts');
    for (const { ban, revoke } of cases) {
      const answer = await adminCall(broker.adminUrl, ban === undefined ? '/api/revoke' : '/api/bans', {
        body: { ...(ban ?? revoke), ttlSec: 60 },
      });
      expect(answer.status).toBeLessThan(300);
    }
    const before = await lookups(broker);
    for (const { userId, token } of cases)
      expect(await refused(broker, `${userId}/phone`, token)).toBe(NOT_AUTHORIZED);
    // each refused token was a hit: the ban guard, not a fresh signature check, refused it
    expect((await lookups(broker)).hit - before.hit).toBe(cases.length);
    for (const code of ['ERR_TOKEN_REVOKED', 'ERR_BANNED'])
      await broker.waitForLog((line) => line.audit === 'refused' && line.code === code);
  });

  it('refuses a cached token once it has expired', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = jwt.sign({ sub: '7301', exp }, TEST_SECRET, { algorithm: 'HS256' });
    await connectAndLeave(broker, '7301/phone', token, 'mqtts');
    await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 100));
    expect(await refused(broker, '7301/phone', token)).toBe(NOT_AUTHORIZED);
    await broker.waitForLog(
      (line) =>
        line.audit === 'refused' && line.clientId === '7301/phone' && line.code === 'ERR_TOKEN_EXPIRED',
    );
  });
});

describe('JWT_CACHE_SIZE=0', () => {
  it('verifies every CONNECT and looks nothing up', async () => {
    const broker = await startTestBroker({ JWT_CACHE_SIZE: '0' });
    try {
      const token = userToken('7401');
      await connectAndLeave(broker, '7401/phone', token, 'mqtts');
      await connectAndLeave(broker, '7401/phone', token, 'mqtts');
      expect(await lookups(broker)).toEqual({ hit: 0, miss: 0 });
    } finally {
      await broker.close();
    }
  });
});
