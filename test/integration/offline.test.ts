// Offline: a device with a persistent session disconnects, a handler process emits events to it,
// the device reconnects and gets every event exactly once; commands issued offline go out on reconnect.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type CashewClient } from '../../client-sdk/index.ts';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { startHandlerProcess, stopAll } from '../support/processes.ts';
import { userToken } from '../support/tokens.ts';

let broker: TestBroker;
const devices: CashewClient[] = [];

async function device(userId: string, suffix: string): Promise<CashewClient> {
  const client = await connect({
    url: broker.wssUrl,
    token: userToken(userId),
    clientIdSuffix: suffix,
    mqtt: { ca: broker.ca },
    backoff: { initialMs: 50, maxMs: 500 },
  });
  devices.push(client);
  return client;
}

function waitForState(client: CashewClient, state: string, timeoutMs = 5_000): Promise<void> {
  if (client.state === state) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ${state} within ${timeoutMs} ms`)), timeoutMs);
    const stop = client.onState((current) => {
      if (current !== state) return;
      clearTimeout(timer);
      stop();
      resolve();
    });
  });
}

beforeAll(async () => {
  broker = await startTestBroker();
  await startHandlerProcess('test/support/handlers/echo.ts', { url: broker.mqttsUrl });
}, 60_000);

afterAll(async () => {
  await Promise.all(devices.map((client) => client.close()));
  await stopAll();
  await broker?.close();
});

describe('a device that goes offline', () => {
  it('receives the QoS 1 events sent while it was offline after it reconnects, each exactly once', async () => {
    const phone = await device('offline-user', 'phone');
    const received: number[] = [];
    await phone.observe<{ n: number }>('echoed', ({ n }) => received.push(n));

    await phone.disconnect();
    expect(phone.connected).toBe(false);
    const sender = await device('sender', 'laptop');
    // The handler emits 50 events to the offline user; its reply means the broker holds them all.
    expect(await sender.request('burst', { to: 'offline-user', count: 50 })).toEqual({ sent: 50 });
    expect(received).toEqual([]);

    // A command issued while offline is queued and sent on reconnect.
    const queued = phone.request<{ userId: string }>('echo', { queued: true });
    phone.reconnect();
    await waitForState(phone, 'online');
    expect(await queued).toMatchObject({ userId: 'offline-user', data: { queued: true } });
    await expect.poll(() => received.length).toBe(50);
    // A round trip after the backlog: nothing is delivered twice behind it.
    await phone.request('echo', 'after');
    expect(received).toEqual(Array.from({ length: 50 }, (_, n) => n));
  });

  it('receives events that arrived before anything observed them (a fresh app on an old session)', async () => {
    const first = await device('returning-user', 'tablet');
    await first.observe('echoed', () => undefined);
    await first.close();
    const sender = await device('sender', 'desktop');
    await sender.request('burst', { to: 'returning-user', count: 5 });

    // The app restarts with the same device id: the session's backlog is replayed at connect.
    const again = await device('returning-user', 'tablet');
    const received: number[] = [];
    await again.observe<{ n: number }>('echoed', ({ n }) => received.push(n));
    await expect.poll(() => received.length).toBe(5);
    expect(received).toEqual([0, 1, 2, 3, 4]);
  });
});
