// Topic length and levels, and subscriptions per connection, over real sockets: refused filters get
// SUBACK 0x80 (the rest of the packet is granted), refused publishes are acknowledged and dropped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import {
  closeAll,
  connectClient,
  connected,
  recordMessages,
  subscribeRaw,
  TRANSPORTS,
} from '../support/clients.ts';
import { userToken } from '../support/tokens.ts';

const SUBACK_FAILURE = 0x80;

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker({
    MAX_SUBSCRIPTIONS_PER_CONNECTION: '5',
    MAX_TOPIC_LENGTH: '64',
    MAX_TOPIC_LEVELS: '4',
  });
});
afterAll(async () => {
  await broker.close();
});

describe('topic and subscription limits', () => {
  for (const transport of TRANSPORTS) {
    it(`${transport}: refuses filters past MAX_SUBSCRIPTIONS_PER_CONNECTION, counting the session's restored ones`, async () => {
      const user = `41${transport.length}`;
      const clientId = `${user}/subs-${transport}`;
      const first = await connected(
        connectClient(broker, transport, clientId, userToken(user), { clean: false }),
      );
      const filters = Array.from({ length: 7 }, (_, i) => `${user}/t${i}`);
      expect(await subscribeRaw(first, filters, 1)).toEqual([1, 1, 1, 1, 1, SUBACK_FAILURE, SUBACK_FAILURE]);
      // Re-subscribing a filter it holds is no new subscription.
      expect(await subscribeRaw(first, [`${user}/t0`], 1)).toEqual([1]);
      const line = await broker.waitForLog(
        (entry) => entry.code === 'ERR_TOO_MANY_SUBSCRIPTIONS' && entry.clientId === clientId,
      );
      expect(line).toMatchObject({ action: 'limit', returnCode: SUBACK_FAILURE, topic: `${user}/t5` });
      await closeAll(first);

      // The persistent session comes back with its 5: still no room for a sixth, until one is dropped.
      const again = await connected(
        connectClient(broker, transport, clientId, userToken(user), { clean: false }),
      );
      expect(await subscribeRaw(again, [`${user}/t6`], 1)).toEqual([SUBACK_FAILURE]);
      await again.unsubscribeAsync(`${user}/t1`);
      expect(await subscribeRaw(again, [`${user}/t6`], 1)).toEqual([1]);
      await closeAll(again);
    });
  }

  it('refuses a filter or topic over MAX_TOPIC_LENGTH or MAX_TOPIC_LEVELS; nothing of such a publish is delivered', async () => {
    const user = '4242';
    const client = await connected(connectClient(broker, 'mqtts', `${user}/a`, userToken(user)));
    const long = `${user}/${'x'.repeat(80)}`;
    const deep = `${user}/a/b/c/d`;
    expect(await subscribeRaw(client, [long, deep, `${user}/#`], 1)).toEqual([
      SUBACK_FAILURE,
      SUBACK_FAILURE,
      1,
    ]);
    const received = recordMessages(client);
    await client.publishAsync(long, 'long', { qos: 1 });
    await client.publishAsync(`${user}/a/b/c/d/e`, 'deep', { qos: 1 });
    await client.publishAsync(`${user}/fine`, 'fine', { qos: 1 });
    await received.waitFor(`${user}/fine`);
    expect(received.messages.map((message) => message.payload)).toEqual(['fine']);
    const codes = broker.logLines
      .filter((entry) => entry.code === 'ERR_TOPIC_TOO_LONG')
      .map((entry) => entry.topic);
    expect(codes).toEqual(expect.arrayContaining([long, deep, `${user}/a/b/c/d/e`]));
    await closeAll(client);
  });
});
