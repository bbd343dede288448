// One client id per app install: the SDK keeps a device id in the app's storage (localStorage,
// AsyncStorage), so a restarted app finds its persistent session — and its backlog — again.
import type mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type CashewClient, type DeviceStorage } from '../../client-sdk/index.ts';
import { DEVICE_ID_KEY } from '../../client-sdk/device-id.ts';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { closeAll, connectClient, connected } from '../support/clients.ts';
import { userToken } from '../support/tokens.ts';

let broker: TestBroker;
const opened: CashewClient[] = [];

beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await Promise.all(opened.map((client) => client.close()));
  await broker.close();
});

/** React Native's AsyncStorage shape: every call a promise. */
function asyncStorage(): DeviceStorage & { readonly items: Map<string, string> } {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (key) => Promise.resolve(items.get(key) ?? null),
    setItem: (key, value) => {
      items.set(key, value);
      return Promise.resolve();
    },
  };
}

async function app(userId: string, storage: DeviceStorage | null): Promise<CashewClient> {
  const client = await connect({
    url: broker.wssUrl,
    token: userToken(userId),
    storage,
    mqtt: { ca: broker.ca },
  });
  opened.push(client);
  return client;
}

describe('the SDK device id', () => {
  it('keeps one client id per install across app restarts, and the session backlog with it', async () => {
    const storage = asyncStorage();
    const first = await app('8080', storage);
    expect(first.clientId).toMatch(/^8080\/[0-9a-f]{16}$/);
    expect(storage.items.get(DEVICE_ID_KEY)).toBe(first.clientId.slice('8080/'.length));
    await first.observe('news', () => undefined);
    await first.close();

    const sender: mqtt.MqttClient = await connected(
      connectClient(broker, 'mqtts', '8080/server', userToken('8080')),
    );
    await sender.publishAsync('8080/news', JSON.stringify({ n: 1 }), { qos: 1 });
    await closeAll(sender);

    const restarted = await app('8080', storage);
    expect(restarted.clientId).toBe(first.clientId);
    const received: unknown[] = [];
    await restarted.observe('news', (data) => received.push(data));
    await expect.poll(() => received).toEqual([{ n: 1 }]);
  });

  it('gives another install another id, and without a storage a new id per run', async () => {
    const one = await app('8181', asyncStorage());
    const other = await app('8181', asyncStorage());
    expect(one.clientId).not.toBe(other.clientId);
    const a = await app('8181', null);
    const b = await app('8181', null);
    expect(a.clientId).not.toBe(b.clientId);
  });

  it('replaces a stored value that is not a device id, and an explicit clientIdSuffix wins', async () => {
    const storage = asyncStorage();
    storage.items.set(DEVICE_ID_KEY, 'x/#');
    const client = await app('8282', storage);
    expect(client.clientId).toMatch(/^8282\/[0-9a-f]{16}$/);
    const fixed = await connect({
      url: broker.wssUrl,
      token: userToken('8282'),
      storage,
      clientIdSuffix: 'kiosk',
      mqtt: { ca: broker.ca },
    });
    opened.push(fixed);
    expect(fixed.clientId).toBe('8282/kiosk');
  });
});
