// Offline: a device with a persistent session disconnects, a handler process emits events to it,
// the device reconnects and gets every event exactly once; commands issued offline go out on reconnect.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { devicesOf, startEchoHandler, waitForState } from '../support/devices.ts';
import { stopAll } from '../support/processes.ts';

let broker: TestBroker;
const devices = devicesOf(() => broker, { backoff: { initialMs: 50, maxMs: 500 } });
const device = (userId: string, suffix: string) => devices.connect(userId, suffix);

beforeAll(async () => {
  broker = await startTestBroker();
  await startEchoHandler(broker);
}, 60_000);

afterAll(async () => {
  await devices.closeAll();
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
