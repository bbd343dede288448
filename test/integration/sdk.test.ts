// The client SDK against a real broker over WSS and TLS: identity from the token, getToken on every
// (re)connect, token expiry, offline queue, typed errors, event dedupe.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, decodeClaims, userIdOf, type CashewClient } from '../../client-sdk/index.ts';
import { EventDedupe } from '../../client-sdk/event-dedupe.ts';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { closeAll, connectClient, connected } from '../support/clients.ts';
import { devicesOf, nextState } from '../support/devices.ts';
import { userToken } from '../support/tokens.ts';

let broker: TestBroker;
const devices = devicesOf(() => broker);
const track = (client: CashewClient) => devices.track(client);

beforeAll(async () => {
  // No clock tolerance, so a 2 s token expires in 2 s.
  broker = await startTestBroker({ JWT_CLOCK_TOLERANCE: '0', JWT_USER_CLAIM: 'user_id' });
});

afterAll(async () => {
  await devices.closeAll();
  await broker?.close();
});

describe('the client SDK', () => {
  it('reads the user id from the configured claim and binds the client id to it', async () => {
    const token = userToken('ignored-sub', { user_id: 68946 });
    expect(decodeClaims(token).user_id).toBe(68946);
    expect(userIdOf(token, 'user_id')).toBe('68946');
    for (const url of [broker.wssUrl, broker.mqttsUrl]) {
      const client = track(
        await connect({
          url,
          token,
          userIdClaim: 'user_id',
          clientIdSuffix: 'phone',
          mqtt: { ca: broker.ca },
        }),
      );
      expect(client.clientId).toBe('68946/phone');
      expect(client.connected).toBe(true);
      await client.close();
    }
  });

  it('calls getToken on every (re)connect and reconnects with the fresh token when the old one expires', async () => {
    let calls = 0;
    const getToken = () => {
      calls += 1;
      return userToken('x', { user_id: 'refresher' }, { expiresIn: 2 });
    };
    const client = track(
      await connect({
        url: broker.wssUrl,
        getToken,
        userIdClaim: 'user_id',
        mqtt: { ca: broker.ca },
        backoff: { initialMs: 50, maxMs: 200 },
        refreshToken: false,
      }),
    );
    const before = calls;
    // The broker closes the connection when the token expires; the SDK comes back with a new one.
    await nextState(client, 'offline');
    await nextState(client, 'online');
    expect(calls).toBeGreaterThan(before);
    await broker.waitForLog((line) => line.code === 'ERR_TOKEN_EXPIRED_SESSION');
  });

  it('queues commands published while offline and sends them on reconnect', async () => {
    const watcher = await connected(
      connectClient(broker, 'wss', 'queue-user/watcher', userToken('q', { user_id: 'queue-user' })),
    );
    const seen: string[] = [];
    watcher.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
    await watcher.subscribeAsync('queue-user/note', { qos: 1 });
    const client = track(
      await connect({
        url: broker.wssUrl,
        token: userToken('q', { user_id: 'queue-user' }),
        userIdClaim: 'user_id',
        mqtt: { ca: broker.ca },
      }),
    );
    await client.disconnect();
    await client.publish('note', { n: 1 });
    await client.publish('note', { n: 2 });
    // Observing while offline: the subscription is made on the next connection.
    const late: unknown[] = [];
    await client.observe('late', (data) => late.push(data));
    expect(seen).toEqual([]);
    client.reconnect();
    await expect
      .poll(() => seen)
      .toEqual(['queue-user/note {"data":{"n":1}}', 'queue-user/note {"data":{"n":2}}']);
    await expect
      .poll(async () => {
        await watcher.publishAsync('queue-user/late', '"hello"', { qos: 1 });
        return late.length > 0;
      })
      .toBe(true);
    expect(late[0]).toBe('hello');
    await closeAll(watcher);
  });

  it('rejects waiting requests with ERR_CLOSED on close, and refuses foreign subscriptions', async () => {
    const client = track(
      await connect({
        url: broker.wssUrl,
        token: userToken('c', { user_id: 'closer' }),
        userIdClaim: 'user_id',
        mqtt: { ca: broker.ca },
      }),
    );
    await expect(client.observe('bad/name', () => undefined)).rejects.toMatchObject({
      code: 'ERR_BAD_PAYLOAD',
    });
    const pending = expect(client.request('nobody', {}, { timeout: 5_000 })).rejects.toMatchObject({
      code: 'ERR_CLOSED',
    });
    await client.close();
    await pending;
    await expect(client.publish('x')).rejects.toMatchObject({ code: 'ERR_CLOSED' });
  });

  it('rejects invalid options with ERR_CONFIG_INVALID', async () => {
    await expect(connect({ url: 'http://x', token: 't' })).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
    });
    await expect(connect({ url: broker.wssUrl })).rejects.toMatchObject({ code: 'ERR_CONFIG_INVALID' });
  });
});

describe('event dedupe', () => {
  it('drops a re-sent (dup) message it has delivered, keeps new ones that reuse an old id', () => {
    const dedupe = new EventDedupe();
    expect(dedupe.accept(1, false)).toBe(true);
    expect(dedupe.accept(1, true)).toBe(false); // re-sent after a lost PUBACK
    expect(dedupe.accept(2, true)).toBe(true); // re-sent, but never seen: deliver
    expect(dedupe.accept(1, false)).toBe(true); // a new message reusing the id
    expect(dedupe.accept(undefined, false)).toBe(true); // QoS 0
  });
});
