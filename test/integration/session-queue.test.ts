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

/** Each attempt its own user: a retry (vitest.config.ts, Redis mode) must not find the last one's queue. */
let attempt = 0;

it(`delivers all ${QUEUED} QoS 1 messages queued while offline at the next reconnect, in order`, async () => {
  const user = `quinn${++attempt}`;
  const session = { clean: false } as const;
  const first = await connected(connectClient(broker, 'mqtts', `${user}/phone`, userToken(user), session));
  expect(await subscribeRaw(first, [`${user}/queue`])).toEqual([1]);
  await first.endAsync();

  const sender = await connected(connectClient(broker, 'mqtts', `${user}/laptop`, userToken(user)));
  for (let start = 0; start < QUEUED; start += 100)
    await Promise.all(
      Array.from({ length: 100 }, (_, index) =>
        sender.publishAsync(`${user}/queue`, String(start + index), { qos: 1 }),
      ),
    );

  // Under a full parallel run, a CONNACK restoring this session from Redis took over the helpers' 5 s.
  const again = connectClient(broker, 'mqtts', `${user}/phone`, userToken(user), {
    ...session,
    connectTimeout: 15_000,
  });
  const received: number[] = [];
  let timer: NodeJS.Timeout | undefined;
  const all = new Promise<void>((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`received ${received.length} of ${QUEUED}`)), 15_000);
    again.on('message', (_topic, payload) => {
      received.push(Number(payload.toString()));
      if (received.length === QUEUED) resolve();
    });
  });
  try {
    await connected(again, 15_000);
    await all;
    expect(received).toEqual(Array.from({ length: QUEUED }, (_, index) => index));
  } finally {
    // A failed attempt ends here with its own error: its wait must not reject later, during the retry.
    clearTimeout(timer);
    all.catch(() => undefined);
    await closeAll(sender, again);
  }
});
