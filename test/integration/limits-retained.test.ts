// Retained messages per user partition (MAX_RETAINED_PER_PARTITION, MAX_RETAINED_BYTES_PER_PARTITION),
// over real sockets, in memory and on Redis: a retained PUBLISH that would take its partition over
// either limit is acknowledged and dropped (not retained, delivered to nobody) and audited;
// replacing within the limits and deleting always pass; other partitions are unaffected. On Redis the
// limits hold across two nodes sharing the index.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipInMode, startTestBroker, type TestBroker } from '../support/broker.ts';
import { closeAll, connectClient, connected, recordMessages, type Received } from '../support/clients.ts';
import { handlerToken, userToken } from '../support/tokens.ts';

const MAX_COUNT = 3;
const MAX_BYTES = 200;
const LIMITS = {
  MAX_RETAINED_PER_PARTITION: String(MAX_COUNT),
  MAX_RETAINED_BYTES_PER_PARTITION: String(MAX_BYTES),
};

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker({ ...LIMITS, NODE_ID: 'retained-a' });
});
afterAll(async () => {
  await broker.close();
});

async function device(user: string, suffix: string, on = broker): Promise<MqttClient> {
  return connected(connectClient(on, 'mqtts', `${user}/${suffix}`, userToken(user)));
}

/**
 * What a new subscriber to `<user>/#` receives as retained: every message before a live marker, sent
 * from a connection opened after the SUBACK (aedes streams the retained messages right after the SUBACK;
 * a connection's TLS handshake takes far longer), as test/integration/retained-persistence.test.ts does.
 */
async function retainedOf(user: string, on = broker): Promise<Record<string, string>> {
  const client = await device(user, `probe-${Math.random().toString(36).slice(2, 8)}`, on);
  const received = recordMessages(client);
  await client.subscribeAsync(`${user}/#`, { qos: 1 });
  const marker = await device(user, `marker-${Math.random().toString(36).slice(2, 8)}`, on);
  await marker.publishAsync(`${user}/marker`, 'marker', { qos: 1 });
  await received.waitFor(`${user}/marker`);
  await closeAll(client, marker);
  return Object.fromEntries(
    received.messages.filter((message) => message.retain).map((message) => [message.topic, message.payload]),
  );
}

/** Resolves on the PUBACK: a refused retained PUBLISH is acknowledged like any other refusal. */
function publishRetained(client: MqttClient, topic: string, payload: string): Promise<unknown> {
  return client.publishAsync(topic, payload, { qos: 1, retain: true });
}

function refusalsOf(user: string, on = broker): Record<string, unknown>[] {
  return on.logLines.filter(
    (line) => line.code === 'ERR_RETAINED_LIMIT' && String(line.topic).startsWith(`${user}/`),
  );
}

describe('retained messages per partition', () => {
  it('at the count limit a new topic is refused (acknowledged, audited, neither retained nor delivered); replacing works; deleting frees a slot', async () => {
    const user = 'rc1';
    const publisher = await device(user, 'pub');
    const live = await device(user, 'live');
    const liveGot = recordMessages(live);
    await live.subscribeAsync(`${user}/#`, { qos: 1 });
    for (let i = 0; i < MAX_COUNT; i++) await publishRetained(publisher, `${user}/t${i}`, `v${i}`);

    await publishRetained(publisher, `${user}/new`, 'over');
    const line = await broker.waitForLog(
      (entry) => entry.code === 'ERR_RETAINED_LIMIT' && entry.topic === `${user}/new`,
    );
    expect(line).toMatchObject({
      audit: 'refused',
      action: 'limit',
      topic: `${user}/new`,
      clientId: `${user}/pub`,
    });
    await publisher.publishAsync(`${user}/after`, 'live', { qos: 1 });
    await liveGot.waitFor(`${user}/after`);
    expect(liveGot.messages.map((message: Received) => message.topic)).not.toContain(`${user}/new`);
    expect(await retainedOf(user)).toEqual({
      [`${user}/t0`]: 'v0',
      [`${user}/t1`]: 'v1',
      [`${user}/t2`]: 'v2',
    });

    await publishRetained(publisher, `${user}/t0`, 'v0 again');
    await publishRetained(publisher, `${user}/t1`, '');
    await publishRetained(publisher, `${user}/new`, 'fits now');
    expect(await retainedOf(user)).toEqual({
      [`${user}/t0`]: 'v0 again',
      [`${user}/t2`]: 'v2',
      [`${user}/new`]: 'fits now',
    });
    expect(refusalsOf(user)).toHaveLength(1);
    await closeAll(publisher, live);
  });

  it('refuses a message that would take the partition over its bytes, a replacement included; the old message stays', async () => {
    const user = 'rb1';
    const publisher = await device(user, 'pub');
    const topic = `${user}/big`; // topic and payload are counted
    await publishRetained(publisher, topic, 'x'.repeat(150));
    await publishRetained(publisher, `${user}/more`, 'y'.repeat(100));
    await broker.waitForLog((entry) => entry.code === 'ERR_RETAINED_LIMIT' && entry.topic === `${user}/more`);
    await publishRetained(publisher, topic, 'x'.repeat(MAX_BYTES - topic.length));
    await publishRetained(publisher, topic, 'z'.repeat(MAX_BYTES));
    await broker.waitForLog((entry) => entry.code === 'ERR_RETAINED_LIMIT' && entry.topic === topic);
    expect(await retainedOf(user)).toEqual({ [topic]: 'x'.repeat(MAX_BYTES - topic.length) });
    await closeAll(publisher);
  });

  it("leaves other partitions alone; a handler's retained event counts against the user it is for", async () => {
    const full = 'rp1';
    const other = 'rp2';
    const publisher = await device(full, 'pub');
    for (let i = 0; i < MAX_COUNT; i++) await publishRetained(publisher, `${full}/t${i}`, `v${i}`);
    const neighbour = await device(other, 'pub');
    for (let i = 0; i < MAX_COUNT; i++) await publishRetained(neighbour, `${other}/t${i}`, `w${i}`);
    expect(Object.keys(await retainedOf(other))).toHaveLength(MAX_COUNT);

    const handler = await connected(
      connectClient(broker, 'mqtts', '$handler/status', handlerToken('status', [], ['status'])),
    );
    await publishRetained(handler, `${full}/status`, 'from the handler');
    await publishRetained(handler, `${other}/status`, 'also over');
    await broker.waitForLog(
      (entry) => entry.code === 'ERR_RETAINED_LIMIT' && entry.topic === `${other}/status`,
    );
    expect(refusalsOf(full).map((line) => line.topic)).toEqual([`${full}/status`]);
    await publishRetained(publisher, `${full}/t0`, '');
    await publishRetained(handler, `${full}/status`, 'fits now');
    expect(await retainedOf(full)).toMatchObject({ [`${full}/status`]: 'fits now' });
    await closeAll(publisher, neighbour, handler);
  });

  it('holds across two nodes sharing Redis: one index, one slot taken once', async (context) => {
    skipInMode(context, 'memory', 'one process has no other node');
    const second = await startTestBroker({ ...LIMITS, NODE_ID: 'retained-b' });
    try {
      const user = 'rn1';
      const onFirst = await device(user, 'a');
      const onSecond = await device(user, 'b', second);
      for (let i = 0; i < MAX_COUNT - 1; i++) await publishRetained(onFirst, `${user}/t${i}`, `v${i}`);
      // The last slot, asked for from both nodes at once: exactly one gets it.
      await Promise.all([
        publishRetained(onFirst, `${user}/from-a`, 'a'),
        publishRetained(onSecond, `${user}/from-b`, 'b'),
      ]);
      const held = await retainedOf(user, second);
      expect(Object.keys(held)).toHaveLength(MAX_COUNT);
      expect(refusalsOf(user).length + refusalsOf(user, second).length).toBe(1);

      // Full, seen from the other node too; a deletion there frees the slot for this one.
      await publishRetained(onSecond, `${user}/later`, 'over');
      await second.waitForLog(
        (entry) => entry.code === 'ERR_RETAINED_LIMIT' && entry.topic === `${user}/later`,
      );
      await publishRetained(onSecond, `${user}/t0`, '');
      await publishRetained(onFirst, `${user}/later`, 'fits now');
      expect(await retainedOf(user)).toMatchObject({ [`${user}/later`]: 'fits now' });
      await closeAll(onFirst, onSecond);
    } finally {
      await second.close();
    }
  });
});
