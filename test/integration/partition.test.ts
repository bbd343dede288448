// Per-user partitioning over real TLS and WSS sockets with real mqtt.js clients.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { closeAll, connectClient, connected, subscribeRaw, TRANSPORTS } from '../support/clients.ts';
import { userToken } from '../support/tokens.ts';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

describe.each(TRANSPORTS)('over %s', (transport) => {
  it('delivers a publish inside the own partition to the own subscription', async () => {
    const device = await connected(connectClient(broker, transport, '68946/phone', userToken('68946')));
    await device.subscribeAsync('68946/#', { qos: 1 });
    const received = new Promise<[string, string]>((resolve) =>
      device.once('message', (topic, payload) => resolve([topic, payload.toString()])),
    );
    await device.publishAsync('68946/hello', 'world', { qos: 1 });
    expect(await received).toEqual(['68946/hello', 'world']);
    await closeAll(device);
  });

  it('answers 0x80 for a foreign filter, grants the others of the same SUBSCRIBE, and stays connected', async () => {
    const device = await connected(connectClient(broker, transport, '68946', userToken('68946')));
    const granted = await subscribeRaw(device, ['68946/contact_list', '4711/#', '#', '$SYS/#', '+/x']);
    expect(granted).toEqual([1, 128, 128, 128, 128]);
    expect(device.connected).toBe(true);
    await broker.waitForLog((line) => line.audit === 'refused' && line.topic === '4711/#');
    await closeAll(device);
  });
});
