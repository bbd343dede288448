// Retained messages through the persistence (the partition-indexed one in memory, aedes-persistence-redis
// on Redis), over a real TLS socket with mqtt.js. The order of retained messages of several topics
// is not part of MQTT (nor the same in both modes): they are compared by topic.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { persistenceOf } from '../../broker/aedes/broker-internals.ts';
import { skipInMode, startTestBroker, type TestBroker } from '../support/broker.ts';
import { closeAll, connectClient, connected } from '../support/clients.ts';
import { handlerToken, userToken } from '../support/tokens.ts';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

interface Received {
  readonly topic: string;
  readonly payload: string;
  readonly retain: boolean;
}

/**
 * Subscribes a fresh client to `filters`, then publishes a live marker on `markerTopic` (which the
 * filters must match) and resolves with every message received before it: all the retained ones.
 */
async function retainedFor(
  clientId: string,
  token: string,
  filters: string[],
  markerTopic: string,
): Promise<Received[]> {
  const client: MqttClient = await connected(connectClient(broker, 'mqtts', clientId, token));
  const received: Received[] = [];
  const done = new Promise<Received[]>((resolve) => {
    client.on('message', (topic, payload, packet) => {
      if (topic === markerTopic && !packet.retain) resolve(received);
      else received.push({ topic, payload: payload.toString(), retain: packet.retain });
    });
  });
  await client.subscribeAsync(filters, { qos: 1 });
  const publisher = await connected(
    connectClient(broker, 'mqtts', `${markerTopic.split('/')[0]}/marker`, token),
  );
  await publisher.publishAsync(markerTopic, 'marker', { qos: 1 });
  const result = await done;
  await closeAll(client, publisher);
  return result.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
}

async function publishRetained(clientId: string, token: string, messages: [string, string][]): Promise<void> {
  const client = await connected(connectClient(broker, 'mqtts', clientId, token));
  for (const [topic, payload] of messages)
    await client.publishAsync(topic, payload, { qos: 1, retain: true });
  await closeAll(client);
}

describe('retained messages in the persistence', () => {
  it('is the partition-indexed persistence startBroker wires by default', (context) => {
    skipInMode(context, 'redis', 'retained messages live in aedes-persistence-redis (broker/cluster/)');
    const persistence = persistenceOf(broker.aedes) as { retained?: unknown };
    expect(persistence.retained).toBeDefined();
  });

  it('delivers, replaces and deletes (empty payload) a retained message', async () => {
    const token = userToken('r1');
    await publishRetained('r1/dev', token, [
      ['r1/state', 'v1'],
      ['r1/other', 'o1'],
    ]);
    expect(await retainedFor('r1/a', token, ['r1/#'], 'r1/mark')).toEqual([
      { topic: 'r1/other', payload: 'o1', retain: true },
      { topic: 'r1/state', payload: 'v1', retain: true },
    ]);

    await publishRetained('r1/dev', token, [['r1/state', 'v2']]);
    expect(await retainedFor('r1/b', token, ['r1/state', 'r1/mark'], 'r1/mark')).toEqual([
      { topic: 'r1/state', payload: 'v2', retain: true },
    ]);

    await publishRetained('r1/dev', token, [['r1/state', '']]);
    expect(await retainedFor('r1/c', token, ['r1/#'], 'r1/mark')).toEqual([
      { topic: 'r1/other', payload: 'o1', retain: true },
    ]);
  });

  it('matches + and # inside a partition and never delivers another partition', async () => {
    await publishRetained('r2/dev', userToken('r2'), [
      ['r2/x/y', '1'],
      ['r2/x/z', '2'],
      ['r2/w/y', '3'],
    ]);
    await publishRetained('r20/dev', userToken('r20'), [['r20/x/y', 'foreign']]);
    const plus = await retainedFor('r2/p', userToken('r2'), ['r2/+/y', 'r2/mark'], 'r2/mark');
    expect(plus.map((message) => message.topic)).toEqual(['r2/w/y', 'r2/x/y']);
    const hash = await retainedFor('r2/h', userToken('r2'), ['r2/x/#'], 'r2/x/mark');
    expect(hash.map((message) => message.topic)).toEqual(['r2/x/y', 'r2/x/z']);
  });

  it('never replays retained messages to a handler as commands, while live commands reach it', async () => {
    await publishRetained('r3/dev', userToken('r3'), [['r3/sync', 'a']]);
    await publishRetained('r4/dev', userToken('r4'), [['r4/sync', 'b']]);
    const handler = await connected(
      connectClient(broker, 'mqtts', '$handler/sync', handlerToken('sync', ['sync'], [])),
    );
    const received: { topic: string; retain: boolean }[] = [];
    const live = new Promise<void>((resolve) =>
      handler.on('message', (topic, _payload, packet) => {
        received.push({ topic, retain: packet.retain });
        if (topic === 'r5/sync') resolve();
      }),
    );
    await handler.subscribeAsync('+/sync', { qos: 1 });
    // A live command published after the SUBSCRIBE is the barrier: retained ones would have come first.
    await publishRetained('r5/dev', userToken('r5'), [['r5/sync', 'c']]);
    await live;
    expect(received).toEqual([{ topic: 'r5/sync', retain: false }]);
    await closeAll(handler);
  });
});
