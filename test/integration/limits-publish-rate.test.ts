// The publish rate per connection over real sockets: a burst, then the rate; past it PUBLISHes are
// acknowledged and dropped (audited), a connection that keeps on is disconnected; handlers have
// their own, higher rate.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { closeAll, closed, connectClient, connected, recordMessages } from '../support/clients.ts';
import { handlerToken, userToken } from '../support/tokens.ts';

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker({
    PUBLISH_RATE: '1',
    PUBLISH_BURST: '20',
    HANDLER_PUBLISH_RATE: '1000',
    HANDLER_PUBLISH_BURST: '200',
  });
});
afterAll(async () => {
  await broker.close();
});

describe('publish rate', () => {
  it('delivers a burst, drops what exceeds the rate (acknowledged, audited), and disconnects a sender that keeps on', async () => {
    const subscriber = await connected(connectClient(broker, 'wss', '5050/sub', userToken('5050')));
    const received = recordMessages(subscriber);
    await subscriber.subscribeAsync('5050/#', { qos: 1 });
    const sender = await connected(connectClient(broker, 'mqtts', '5050/sender', userToken('5050')));

    // 30 at once: the burst of 20 passes (1 more per second), the rest is dropped; every one is acknowledged.
    await Promise.all(
      Array.from({ length: 30 }, (_, n) => sender.publishAsync('5050/n', String(n), { qos: 1 })),
    );
    const barrier = await connected(connectClient(broker, 'mqtts', '5050/barrier', userToken('5050')));
    await barrier.publishAsync('5050/barrier', 'after', { qos: 1 });
    await received.waitFor('5050/barrier');
    const delivered = received.messages.filter((message) => message.topic === '5050/n').length;
    expect(delivered).toBeGreaterThanOrEqual(20);
    expect(delivered).toBeLessThan(30);
    const drop = await broker.waitForLog((entry) => entry.code === 'ERR_PUBLISH_RATE');
    expect(drop).toMatchObject({ action: 'limit', clientId: '5050/sender', identity: 'user:5050' });
    expect(sender.connected).toBe(true);

    // Going on at full speed: a further burst's worth over the rate closes the connection.
    const cut = closed(sender, 10_000);
    for (let n = 0; n < 60 && sender.connected; n += 1) sender.publish('5050/more', String(n), { qos: 0 });
    await cut;
    await broker.waitForLog(
      (entry) => entry.code === 'ERR_PUBLISH_RATE' && String(entry.reason).includes('disconnected'),
    );
    await closeAll(subscriber, sender, barrier);
  });

  it('gives handlers their own, higher rate', async () => {
    const device = await connected(connectClient(broker, 'wss', '5151/phone', userToken('5151')));
    const received = recordMessages(device);
    await device.subscribeAsync('5151/#', { qos: 1 });
    const handler = await connected(
      connectClient(broker, 'mqtts', '$handler/news/a', handlerToken('news', [], ['news'])),
    );
    await Promise.all(
      Array.from({ length: 100 }, (_, n) => handler.publishAsync('5151/news', String(n), { qos: 1 })),
    );
    await expect.poll(() => received.messages.length).toBe(100);
    expect(
      broker.logLines.filter(
        (entry) => entry.code === 'ERR_PUBLISH_RATE' && entry.clientId === '$handler/news/a',
      ),
    ).toEqual([]);
    await closeAll(device, handler);
  });
});
