// Presence for handlers, over real TLS/WSS connections: a handler granted presence receives one
// online event when a user's first device connects and one offline event after the last has gone
// (plus the grace period), with the device count; reconnects within the grace emit nothing; no user,
// and no handler without the grant, can subscribe to presence.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { closeAll, connectClient, connected, subscribeRaw } from '../support/clients.ts';
import { quietFor, recordPresence, type PresenceRecorder } from '../support/presence.ts';
import { handlerToken, presenceHandlerToken, userToken } from '../support/tokens.ts';

const GRACE_MS = 400;
/** How long to watch for an event that must not come: the grace period and then some. */
const SILENCE_MS = GRACE_MS * 3;

let broker: TestBroker;
let watcher: MqttClient;
let presence: PresenceRecorder;

beforeAll(async () => {
  broker = await startTestBroker({ PRESENCE_GRACE_MS: String(GRACE_MS) });
  watcher = await connected(connectClient(broker, 'mqtts', '$handler/push/1', presenceHandlerToken('push')));
  presence = recordPresence(watcher);
  expect(await subscribeRaw(watcher, ['$cashew/presence/+'])).toEqual([1]);
});
afterAll(async () => {
  await closeAll(watcher);
  await broker.close();
});

const device = (userId: string, name: string, transport: 'mqtts' | 'wss' = 'mqtts'): Promise<MqttClient> =>
  connected(connectClient(broker, transport, `${userId}/${name}`, userToken(userId)));

describe('presence events', () => {
  it('two devices of one user: one online event, one offline only after both have left', async () => {
    const phone = await device('alice', 'phone');
    const online = await presence.waitFor((event) => event.userId === 'alice');
    expect(online).toMatchObject({ userId: 'alice', online: true, devices: 1 });
    expect(Math.abs(online.at - Date.now())).toBeLessThan(5000);
    const tablet = await device('alice', 'tablet', 'wss');
    await phone.endAsync();
    await quietFor(SILENCE_MS);
    expect(presence.of('alice')).toHaveLength(1); // neither a second online nor an offline
    const leftAt = Date.now();
    await tablet.endAsync();
    const offline = await presence.waitFor((event) => event.userId === 'alice' && !event.online);
    expect(Date.now() - leftAt).toBeGreaterThanOrEqual(GRACE_MS - 50);
    expect(offline).toMatchObject({ userId: 'alice', online: false, devices: 0 });
    expect(offline.at).toBeGreaterThanOrEqual(online.at);
    expect(offline.at).toBeLessThanOrEqual(leftAt + 1000);
    expect(presence.of('alice')).toHaveLength(2);
  });

  it('a reconnect within the grace period emits neither offline nor online', async () => {
    const first = await device('bob', 'phone');
    await presence.waitFor((event) => event.userId === 'bob' && event.online);
    first.stream.destroy(); // the network went
    await broker.waitForLog((line) => line.msg === 'client disconnected' && line.clientId === 'bob/phone');
    const again = await device('bob', 'phone');
    await quietFor(SILENCE_MS);
    expect(presence.of('bob').map((event) => event.online)).toEqual([true]);
    await again.endAsync();
    await presence.waitFor((event) => event.userId === 'bob' && !event.online);
    expect(presence.of('bob').map((event) => event.online)).toEqual([true, false]);
    first.end(true);
  });

  it('counts the devices connected when the user came online', async () => {
    const [one, two] = await Promise.all([device('cleo', 'a'), device('cleo', 'b')]);
    const online = await presence.waitFor((event) => event.userId === 'cleo');
    expect(online.devices).toBeGreaterThanOrEqual(1);
    await closeAll(one, two);
    await presence.waitFor((event) => event.userId === 'cleo' && !event.online);
    expect(presence.of('cleo').map((event) => event.online)).toEqual([true, false]);
  });

  it('a second presence handler and a one-user filter each receive the events', async () => {
    const other = await connected(
      connectClient(broker, 'wss', '$handler/audit/1', presenceHandlerToken('audit')),
    );
    const seen = recordPresence(other);
    expect(await subscribeRaw(other, ['$cashew/presence/dora'])).toEqual([1]);
    const dora = await device('dora', 'phone');
    await device('erin', 'phone').then((erin) => erin.endAsync());
    await seen.waitFor((event) => event.userId === 'dora' && event.online);
    await presence.waitFor((event) => event.userId === 'dora' && event.online);
    await presence.waitFor((event) => event.userId === 'erin' && !event.online);
    expect(seen.of('erin')).toEqual([]);
    await closeAll(dora, other);
  });
});

describe('who may see presence', () => {
  it('no user may subscribe to presence, its own included; the connection stays up', async () => {
    const user = await device('fred', 'phone');
    expect(await subscribeRaw(user, ['$cashew/presence/+', '$cashew/presence/fred', 'fred/#'])).toEqual([
      128, 128, 1,
    ]);
    expect(user.connected).toBe(true);
    await closeAll(user);
  });

  it('a handler without the grant may not subscribe, even with every command and event', async () => {
    const plain = await connected(
      connectClient(broker, 'mqtts', '$handler/all/1', handlerToken('all', ['*'], ['*'])),
    );
    expect(await subscribeRaw(plain, ['$cashew/presence/+'])).toEqual([128]);
    await broker.waitForLog(
      (line) =>
        line.audit === 'refused' && line.clientId === '$handler/all/1' && line.topic === '$cashew/presence/+',
    );
    await closeAll(plain);
  });

  it('nobody may publish a presence event', async () => {
    const forger = await connected(
      connectClient(broker, 'mqtts', '$handler/push/2', presenceHandlerToken('push')),
    );
    await forger.publishAsync('$cashew/presence/gina', '{"userId":"gina","online":true,"devices":1,"at":1}', {
      qos: 1,
    });
    await broker.waitForLog((line) => line.audit === 'refused' && line.clientId === '$handler/push/2');
    await quietFor(200);
    expect(presence.of('gina')).toEqual([]);
    await closeAll(forger);
  });
});
