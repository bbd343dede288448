// Everything queued for an offline persistent session arrives at its next reconnect, in order, in
// both modes: aedes-persistence-redis would hand out at most its `maxSessionDelivery` (1000 by
// default) per CONNECT and keep the rest for the reconnect after (broker/cluster/redis-persistence.ts).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { closeAll, connectClient, connected, subscribeRaw } from '../support/clients.ts';
import { userToken } from '../support/tokens.ts';

/** More than aedes-persistence-redis' default per-CONNECT delivery (1000). */
const QUEUED = 1200;

let broker: TestBroker;
beforeAll(async () => {
  // Above the default queue cap (MAX_QUEUED_MESSAGES 1000), which limits-session-queue.test.ts tests.
  broker = await startTestBroker({ MAX_QUEUED_MESSAGES: '2000' });
});
afterAll(async () => {
  await broker.close();
});

it(`delivers all ${QUEUED} QoS 1 messages queued while offline at the next reconnect, in order`, async () => {
  const session = { clean: false } as const;
  const first = await connected(connectClient(broker, 'mqtts', 'quinn/phone', userToken('quinn'), session));
  expect(await subscribeRaw(first, ['quinn/queue'])).toEqual([1]);
  await first.endAsync();

  const sender = await connected(connectClient(broker, 'mqtts', 'quinn/laptop', userToken('quinn')));
  for (let start = 0; start < QUEUED; start += 100)
    await Promise.all(
      Array.from({ length: 100 }, (_, index) =>
        sender.publishAsync('quinn/queue', String(start + index), { qos: 1 }),
      ),
    );

  const again = connectClient(broker, 'mqtts', 'quinn/phone', userToken('quinn'), session);
  const received: number[] = [];
  const all = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`received ${received.length} of ${QUEUED}`)), 15_000);
    again.on('message', (_topic, payload) => {
      received.push(Number(payload.toString()));
      if (received.length === QUEUED) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  await connected(again);
  await all;
  expect(received).toEqual(Array.from({ length: QUEUED }, (_, index) => index));
  await closeAll(sender, again);
});
