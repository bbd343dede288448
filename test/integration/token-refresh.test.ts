// In-band token refresh over the open connection (docs/protocol.md#token-refresh), raw mqtt.js clients
// over TLS and WSS: the expiry moves, nothing is re-subscribed, the answer reaches only the asking
// connection, the token reaches nobody; every refusal is audited and leaves the old expiry in force.
import jwt from 'jsonwebtoken';
import type { AedesPublishPacket } from 'aedes';
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_REFRESH_REPLY_TOPIC } from '../../protocol/index.ts';
import { auditOf, startTestBroker, TEST_SECRET, type TestBroker } from '../support/broker.ts';
import {
  closeAll,
  closed,
  connectClient,
  connected,
  recordMessages,
  subscribeRaw,
  TRANSPORTS,
} from '../support/clients.ts';
import { refreshOver } from '../support/token-refresh.ts';

let broker: TestBroker;
/** Every payload the broker published or routed (its emitter), to prove no token went anywhere. */
const routed: string[] = [];
beforeAll(async () => {
  broker = await startTestBroker({ JWT_CLOCK_TOLERANCE: '0', TOKEN_REFRESH_INTERVAL_MS: '1000' });
  broker.aedes.on('publish', (packet: AedesPublishPacket) => routed.push(packet.payload.toString()));
});
afterAll(async () => {
  await broker.close();
});
/** Every client a test connects, closed after it even when it fails (a retry reuses the client ids). */
const opened: MqttClient[] = [];
afterEach(async () => {
  await closeAll(...opened.splice(0));
});
function trackedClient(...args: Parameters<typeof connectClient>): MqttClient {
  const client = connectClient(...args);
  opened.push(client);
  return client;
}

const inSeconds = (seconds: number): number => Math.floor(Date.now() / 1000) + seconds;

function userToken(sub: string, exp: number, secret = TEST_SECRET): string {
  return jwt.sign({ sub, exp }, secret, { algorithm: 'HS256' });
}

function handlerToken(name: string, commands: string[], events: string[], exp: number): string {
  return jwt.sign({ sub: `handler:${name}`, exp, handler: { name, commands, events } }, TEST_SECRET, {
    algorithm: 'HS256',
  });
}

/** The `accepted` audit line of a refresh of `clientId`. */
function acceptedOf(clientId: string): (line: Record<string, unknown>) => boolean {
  return (line) => line.audit === 'accepted' && line.action === 'refresh' && line.clientId === clientId;
}

describe.each(TRANSPORTS)('over %s', (transport) => {
  it('moves the expiry past the old exp; subscriptions and messages go on; only the asker is answered', async () => {
    const clientId = `70001/phone-${transport}`;
    const oldExp = inSeconds(5);
    const device = await connected(trackedClient(broker, transport, clientId, userToken('70001', oldExp)));
    const other = await connected(
      trackedClient(broker, transport, `70001/tablet-${transport}`, userToken('70001', inSeconds(600))),
    );
    const deviceSeen = recordMessages(device);
    const otherSeen = recordMessages(other);
    await device.subscribeAsync('70001/news', { qos: 1 });
    await other.subscribeAsync('70001/#', { qos: 1 });
    const newToken = userToken('70001', inSeconds(600));

    const reply = await refreshOver(device, newToken);
    expect(reply).toMatchObject({ ok: true, expiresAt: expect.any(Number) as number });
    expect(reply.ok && reply.expiresAt).toBeGreaterThan(oldExp * 1000 + 500_000);
    const audit = await broker.waitForLog(acceptedOf(clientId));
    expect(audit).toMatchObject({ identity: 'user:70001', previousExpiresAt: oldExp * 1000 });

    // Past the old exp: still connected, the subscription made before the refresh still delivers.
    const waitMs = oldExp * 1000 - Date.now() + 1500;
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    expect(device.connected).toBe(true);
    await other.publishAsync('70001/news', 'after the old exp', { qos: 1 });
    expect((await deviceSeen.waitFor('70001/news')).payload).toBe('after the old exp');
    await otherSeen.waitFor('70001/news');
    // The answer went to the asking connection only; the token reached nobody.
    expect(otherSeen.messages.map((message) => message.topic)).not.toContain(TOKEN_REFRESH_REPLY_TOPIC);
    expect(routed.some((payload) => payload.includes(newToken))).toBe(false);
    expect(await subscribeRaw(other, ['$cashew/#', '$cashew/refresh'])).toEqual([0x80, 0x80]);
    await closeAll(device, other);
  });

  it('refuses another user, an expired token, a bad signature; each audited, the old exp in force', async () => {
    const oldExp = inSeconds(6);
    const cases = [
      { name: 'other-user', token: userToken('70003', inSeconds(600)), code: 'ERR_REFRESH_IDENTITY' },
      { name: 'expired', token: userToken('70002', inSeconds(-10)), code: 'ERR_TOKEN_EXPIRED' },
      {
        name: 'bad-signature',
        token: userToken('70002', inSeconds(600), 'another-secret-that-is-long-enough-0123'),
        code: 'ERR_TOKEN_SIGNATURE',
      },
      {
        name: 'handler-token',
        token: handlerToken('ping', ['ping'], ['pong'], inSeconds(600)),
        code: 'ERR_REFRESH_IDENTITY',
      },
    ];
    const clients = await Promise.all(
      cases.map(({ name }) =>
        connected(trackedClient(broker, transport, `70002/${name}-${transport}`, userToken('70002', oldExp))),
      ),
    );
    const replies = await Promise.all(cases.map(({ token }, index) => refreshOver(clients[index]!, token)));
    for (const [index, { name, code }] of cases.entries()) {
      expect(replies[index], name).toMatchObject({ ok: false, error: { code } });
      const audit = await broker.waitForLog(auditOf(`70002/${name}-${transport}`, 'refresh'));
      expect(audit, name).toMatchObject({ code, identity: 'user:70002' });
    }
    // Refused: each connection is still closed at its old exp.
    await Promise.all(clients.map((client) => closed(client, 15_000)));
    expect(Date.now()).toBeGreaterThanOrEqual(oldExp * 1000);
    for (const { name } of cases) await broker.waitForLog(auditOf(`70002/${name}-${transport}`, 'expire'));
  });
});

describe('bans and revocations', () => {
  it('hold a refreshed token as they hold a CONNECT: a banned jti is refused, audited, the old exp in force', async () => {
    const now = Date.now();
    await broker.admin.bans.ban({
      kind: 'jti',
      value: 'stolen-at-refresh',
      expiresAt: now + 60_000,
      createdAt: now,
    });
    const oldExp = inSeconds(5);
    const client = await connected(trackedClient(broker, 'mqtts', '70005/phone', userToken('70005', oldExp)));
    const banned = jwt.sign({ sub: '70005', exp: inSeconds(600), jti: 'stolen-at-refresh' }, TEST_SECRET, {
      algorithm: 'HS256',
    });
    expect(await refreshOver(client, banned)).toMatchObject({
      ok: false,
      error: { code: 'ERR_TOKEN_REVOKED' },
    });
    expect(await broker.waitForLog(auditOf('70005/phone', 'refresh'))).toMatchObject({
      code: 'ERR_TOKEN_REVOKED',
    });
    // The same user refreshing with a token that is not banned is accepted.
    const other = await connected(trackedClient(broker, 'mqtts', '70005/tablet', userToken('70005', oldExp)));
    expect(await refreshOver(other, userToken('70005', inSeconds(600)))).toMatchObject({ ok: true });
    // Refused: the first connection still closes at its old exp.
    await closed(client, 15_000);
    expect(Date.now()).toBeGreaterThanOrEqual(oldExp * 1000);
  });
});

describe('a handler', () => {
  it('may shrink its grants: the commands no longer granted are unsubscribed', async () => {
    const clientId = '$handler/shrinking/1';
    const handler = await connected(
      connectClient(
        broker,
        'mqtts',
        clientId,
        handlerToken('shrinking', ['keep', 'drop'], [], inSeconds(600)),
      ),
    );
    const seen = recordMessages(handler);
    expect(await subscribeRaw(handler, ['+/keep', '+/drop'])).toEqual([1, 1]);
    const reply = await refreshOver(handler, handlerToken('shrinking', ['keep'], [], inSeconds(900)));
    expect(reply).toMatchObject({ ok: true });
    expect(await broker.waitForLog(acceptedOf(clientId))).toMatchObject({ unsubscribed: ['+/drop'] });
    const user = await connected(
      trackedClient(broker, 'mqtts', '70010/app', userToken('70010', inSeconds(600))),
    );
    await user.publishAsync('70010/drop', 'no longer served', { qos: 1 });
    await user.publishAsync('70010/keep', 'served', { qos: 1 });
    await seen.waitFor('70010/keep');
    const commands = seen.messages.filter((message) => message.topic !== TOKEN_REFRESH_REPLY_TOPIC);
    expect(commands.map((message) => message.topic)).toEqual(['70010/keep']);
    await closeAll(handler, user);
  });

  it('may not widen its grants: refused, audited, the old exp in force', async () => {
    const clientId = '$handler/widening/1';
    const oldExp = inSeconds(6);
    const handler = await connected(
      trackedClient(broker, 'mqtts', clientId, handlerToken('widening', ['a'], ['done'], oldExp)),
    );
    const more = [
      handlerToken('widening', ['a', 'b'], ['done'], inSeconds(600)),
      handlerToken('widening', ['a'], ['*'], inSeconds(600)),
    ];
    expect(await refreshOver(handler, more[0]!)).toMatchObject({
      ok: false,
      error: { code: 'ERR_REFRESH_GRANTS' },
    });
    await broker.waitForLog(auditOf(clientId, 'refresh'));
    // The next refresh within TOKEN_REFRESH_INTERVAL_MS is not even verified.
    expect(await refreshOver(handler, more[1]!)).toMatchObject({
      ok: false,
      error: { code: 'ERR_REFRESH_RATE' },
    });
    expect(await broker.waitForLog(auditOf(clientId, 'limit'))).toMatchObject({ code: 'ERR_REFRESH_RATE' });
    await closed(handler, 15_000);
    expect(Date.now()).toBeGreaterThanOrEqual(oldExp * 1000);
  });
});

describe('the bound', () => {
  it('verifies one refresh per TOKEN_REFRESH_INTERVAL_MS; a tight loop of them is answered ERR_REFRESH_RATE unverified', async () => {
    const clientId = '70020/looping';
    const device = await connected(
      trackedClient(broker, 'mqtts', clientId, userToken('70020', inSeconds(600))),
    );
    const token = userToken('70020', inSeconds(900));
    const replies = await Promise.all(Array.from({ length: 30 }, () => refreshOver(device, token)));
    const codes = replies.map((reply) => (reply.ok ? 'ok' : reply.error.code));
    expect(codes.filter((code) => code === 'ok')).toHaveLength(1);
    expect(codes.filter((code) => code === 'ERR_REFRESH_RATE')).toHaveLength(29);
    expect(broker.logLines.filter(acceptedOf(clientId))).toHaveLength(1);
    expect(await broker.waitForLog(auditOf(clientId, 'limit'))).toMatchObject({ code: 'ERR_REFRESH_RATE' });
    expect(device.connected).toBe(true);
    await closeAll(device);
  });
});
