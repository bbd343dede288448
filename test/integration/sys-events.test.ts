// The embedded broker drops aedes' $SYS announcements nobody can read; every client publish still flows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropUnobservedSysEvents, UNOBSERVED_SYS_EVENTS } from '../../broker/aedes/sys-events.ts';
import { skipInMode, startTestBroker, type TestBroker } from '../support/broker.ts';
import { closeAll, connectClient, connected } from '../support/clients.ts';
import { userToken } from '../support/tokens.ts';
import type { Aedes } from 'aedes';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

describe('dropUnobservedSysEvents', () => {
  it('publishes no connect, disconnect or subscribe announcement, and delivers QoS0 and QoS1 publishes', async (context) => {
    skipInMode(
      context,
      'redis',
      'on Redis the announcements are read by the other nodes (client-id takeover, test/cluster/cluster.test.ts)',
    );
    const topics: string[] = [];
    const onPublish = (packet: { topic: string }) => topics.push(packet.topic);
    broker.aedes.on('publish', onPublish);
    const device = await connected(connectClient(broker, 'mqtts', 'sys1/a', userToken('sys1')));
    await device.subscribeAsync('sys1/#', { qos: 1 });
    const received: string[] = [];
    const both = new Promise<void>((resolve) =>
      device.on('message', (topic) => {
        received.push(topic);
        if (received.length === 2) resolve();
      }),
    );
    await device.publishAsync('sys1/q0', 'x', { qos: 0 });
    await device.publishAsync('sys1/q1', 'y', { qos: 1 });
    await both;
    const disconnected = new Promise((resolve) => broker.aedes.once('clientDisconnect', resolve));
    await closeAll(device);
    await disconnected;
    broker.aedes.off('publish', onPublish);
    expect(received.sort()).toEqual(['sys1/q0', 'sys1/q1']);
    const announced = topics.filter((topic) =>
      UNOBSERVED_SYS_EVENTS.some((event) => topic === `$SYS/${broker.aedes.id}/${event}`),
    );
    expect(announced).toEqual([]);
  });

  it('calls back for a dropped announcement and passes every other publish through unchanged', () => {
    const calls: unknown[][] = [];
    const fake = {
      id: 'n1',
      publish: (...args: unknown[]) => {
        calls.push(args);
      },
    };
    dropUnobservedSysEvents(fake as unknown as Aedes);
    const client = { id: 'c' };
    const done = (): void => undefined;
    fake.publish({ topic: 'u/t' }, client, done);
    fake.publish({ topic: '$SYS/n1/heartbeat' }, done);
    let dropped = false;
    fake.publish({ topic: '$SYS/n1/new/clients' }, () => {
      dropped = true;
    });
    expect(calls).toEqual([
      [{ topic: 'u/t' }, client, done],
      [{ topic: '$SYS/n1/heartbeat' }, done],
    ]);
    return new Promise<void>((resolve) =>
      process.nextTick(() => {
        expect(dropped).toBe(true);
        resolve();
      }),
    );
  });
});
