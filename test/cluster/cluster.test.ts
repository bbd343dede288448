// Three broker processes on one Redis behave as one broker, with every invariant of the secure
// core intact across nodes: delivery, persistent sessions, retained messages, refused filters,
// token expiry, client-id takeover, and SUBSCRIBE packets with several filters (issue 14).
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SUBACK_FAILURE } from '../../broker/aedes/return-codes.ts';
import { TEST_CERTS_DIR } from '../support/broker.ts';
import { connected, subscribeRaw } from '../support/clients.ts';
import { MOSQUITTO_SUB, startTool, toolsAvailable } from '../support/system-tools.ts';
import { userToken } from '../support/tokens.ts';
import {
  closedByBroker,
  collect,
  connectTo,
  startBrokerProcess,
  type BrokerProcess,
} from './support/nodes.ts';
import { startTestRedis, type TestRedis } from './support/redis.ts';

let redis: TestRedis;
let a: BrokerProcess;
let b: BrokerProcess;
let c: BrokerProcess;
const open: MqttClient[] = [];

function client(node: BrokerProcess, clientId: string, token: string, clean = true): MqttClient {
  const mqttClient = connectTo(node, clientId, token, { clean });
  open.push(mqttClient);
  return mqttClient;
}

/** Publishes a marker and waits for it: every message published before it on that path has arrived. */
async function roundTrip(publisher: MqttClient, received: ReturnType<typeof collect>, topic: string) {
  const before = received.messages.length;
  await publisher.publishAsync(topic, 'marker', { qos: 1 });
  await received.waitFor(before + 1);
}

beforeAll(async () => {
  redis = await startTestRedis();
  const settings = { JWT_CLOCK_TOLERANCE: '0', CLUSTER_HEARTBEAT_MS: '500' };
  [a, b, c] = (await Promise.all(
    ['node-a', 'node-b', 'node-c'].map((id) => startBrokerProcess(id, redis.url, settings)),
  )) as [BrokerProcess, BrokerProcess, BrokerProcess];
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((mqttClient) => mqttClient.endAsync(true).catch(() => undefined)));
});

afterAll(async () => {
  await Promise.all([a, b, c].map((node) => node?.stop()));
  await redis?.dispose();
});

describe('three broker processes on one Redis', () => {
  it('deliver a message published on one node to a subscriber on another, and only to its partition', async () => {
    const subscriber = await connected(client(a, 'alice/phone', userToken('alice')));
    const other = await connected(client(c, 'bob/phone', userToken('bob')));
    await subscriber.subscribeAsync('alice/#', { qos: 1 });
    await other.subscribeAsync('bob/#', { qos: 1 });
    const received = collect(subscriber);
    const otherReceived = collect(other);
    const publisher = await connected(client(b, 'alice/web', userToken('alice')));
    await publisher.publishAsync('alice/note', 'from node b', { qos: 1 });
    expect(await received.waitFor(1)).toEqual([{ topic: 'alice/note', payload: 'from node b' }]);
    const bobPublisher = await connected(client(b, 'bob/web', userToken('bob')));
    await roundTrip(bobPublisher, otherReceived, 'bob/marker');
    expect(otherReceived.messages.map((message) => message.topic)).toEqual(['bob/marker']);
  });

  it('keep a persistent session across nodes: QoS 1 messages queued while offline arrive on another node', async () => {
    const first = await connected(client(a, 'carol/phone', userToken('carol'), false));
    await first.subscribeAsync('carol/#', { qos: 1 });
    await first.endAsync();
    const publisher = await connected(client(b, 'carol/web', userToken('carol')));
    for (const n of [1, 2, 3]) await publisher.publishAsync('carol/queued', `m${n}`, { qos: 1 });
    const again = client(c, 'carol/phone', userToken('carol'), false);
    const received = collect(again);
    const connack = new Promise<boolean>((resolve) =>
      again.once('connect', (packet) => resolve(packet.sessionPresent)),
    );
    expect(await connack).toBe(true);
    const messages = await received.waitFor(3);
    expect(messages.map((message) => message.payload).sort()).toEqual(['m1', 'm2', 'm3']);
  });

  it('serve retained messages across nodes, inside their partition only', async () => {
    const publisher = await connected(client(a, 'dave/sensor', userToken('dave')));
    await publisher.publishAsync('dave/status', 'online', { qos: 1, retain: true });
    const reader = await connected(client(b, 'dave/phone', userToken('dave')));
    const received = collect(reader);
    await reader.subscribeAsync('dave/status', { qos: 1 });
    expect(await received.waitFor(1)).toEqual([{ topic: 'dave/status', payload: 'online' }]);

    const intruder = await connected(client(c, 'erin/phone', userToken('erin')));
    const intruderReceived = collect(intruder);
    expect(await subscribeRaw(intruder, ['dave/#', 'erin/#'])).toEqual([SUBACK_FAILURE, 1]);
    const erinPublisher = await connected(client(c, 'erin/web', userToken('erin')));
    await roundTrip(erinPublisher, intruderReceived, 'erin/marker');
    expect(intruderReceived.messages.map((message) => message.topic)).toEqual(['erin/marker']);
  });

  it('never deliver a refused filter of a persistent session, even when it reconnects to another node', async () => {
    const first = await connected(client(a, 'frank/phone', userToken('frank'), false));
    expect(await subscribeRaw(first, ['frank/#', 'grace/#'])).toEqual([1, SUBACK_FAILURE]);
    await first.endAsync();

    const grace = await connected(client(b, 'grace/web', userToken('grace')));
    const frankWeb = await connected(client(b, 'frank/web', userToken('frank')));
    await grace.publishAsync('grace/secret', 'queued while offline', { qos: 1 });
    await frankWeb.publishAsync('frank/inbox', 'for frank', { qos: 1 });

    const again = client(c, 'frank/phone', userToken('frank'), false);
    const received = collect(again);
    await connected(again);
    await received.waitFor(1);
    await grace.publishAsync('grace/secret', 'live', { qos: 1 });
    await roundTrip(frankWeb, received, 'frank/marker');
    expect(received.messages.map((message) => message.topic).sort()).toEqual(['frank/inbox', 'frank/marker']);
    // The restored session's refused filter is judged again on node c, and refused again.
    await c.waitForLog(
      (line) =>
        line.audit === 'refused' &&
        line.clientId === 'frank/phone' &&
        (line.topic === 'grace/#' || line.topic === 'grace/secret'),
    );
  });

  it('close a connection when its token expires, on whichever node it is', async () => {
    const token = userToken('heidi', {}, { expiresIn: 2 });
    const onB = await connected(client(b, 'heidi/phone', token));
    const onC = await connected(client(c, 'heidi/web', token));
    await Promise.all([closedByBroker(onB), closedByBroker(onC)]);
    for (const node of [b, c]) {
      const line = await node.waitForLog((entry) => entry.action === 'expire');
      expect(line).toMatchObject({ code: 'ERR_TOKEN_EXPIRED_SESSION', identity: 'user:heidi' });
    }
    await expect(connected(client(a, 'heidi/phone', token))).rejects.toMatchObject({ code: 5 });
  });

  it.each([false, true])(
    'disconnect a client here when its client id connects on another node (takeover, clean: %s)',
    async (clean) => {
      const clientId = `ivan/phone-${String(clean)}`;
      const first = await connected(client(a, clientId, userToken('ivan'), clean));
      await first.subscribeAsync('ivan/#', { qos: 1 });
      const closed = closedByBroker(first);
      const second = await connected(client(b, clientId, userToken('ivan'), clean));
      await closed;
      const line = await a.waitForLog((entry) => entry.action === 'takeover' && entry.clientId === clientId);
      expect(line.byNode).toBe('node-b');
      if (clean) await second.subscribeAsync('ivan/#', { qos: 1 });
      const received = collect(second);
      const publisher = await connected(client(c, `ivan/web-${String(clean)}`, userToken('ivan')));
      await publisher.publishAsync('ivan/after', 'to the new connection', { qos: 1 });
      expect(await received.waitFor(1)).toEqual([{ topic: 'ivan/after', payload: 'to the new connection' }]);
    },
  );
});

const SESSIONS = [
  { name: 'persistent', clean: false },
  { name: 'clean', clean: true },
] as const;

describe('several filters in one SUBSCRIBE, across nodes (issue 14)', () => {
  it.each(SESSIONS)(
    'a $name session subscribed on one node with a list receives what is published on another',
    async ({ name, clean }) => {
      const subscriber = await connected(client(a, `judy/list-${name}`, userToken('judy'), clean));
      const received = collect(subscriber);
      expect(await subscribeRaw(subscriber, [`judy/${name}/a`, `judy/${name}/b/+`, 'mallory/#'])).toEqual([
        1,
        1,
        SUBACK_FAILURE,
      ]);
      const publisher = await connected(client(b, `judy/pub-${name}`, userToken('judy')));
      await publisher.publishAsync(`judy/${name}/a`, 'one', { qos: 1 });
      await publisher.publishAsync(`judy/${name}/b/c`, 'two', { qos: 1 });
      const messages = await received.waitFor(2);
      expect(messages.map((message) => message.payload).sort()).toEqual(['one', 'two']);
    },
  );

  it('a persistent session subscribed with a list on one node gets what was queued for each filter on another', async () => {
    const first = await connected(client(a, 'kate/phone', userToken('kate'), false));
    expect(await subscribeRaw(first, ['kate/news', 'kate/mail/+'])).toEqual([1, 1]);
    await first.endAsync();
    const publisher = await connected(client(b, 'kate/web', userToken('kate')));
    await publisher.publishAsync('kate/news', 'queued-news', { qos: 1 });
    await publisher.publishAsync('kate/mail/inbox', 'queued-mail', { qos: 1 });
    const again = client(c, 'kate/phone', userToken('kate'), false);
    const received = collect(again);
    const connack = new Promise<boolean>((resolve) =>
      again.once('connect', (packet) => resolve(packet.sessionPresent)),
    );
    expect(await connack).toBe(true);
    const messages = await received.waitFor(2);
    expect(messages.map((message) => message.topic).sort()).toEqual(['kate/mail/inbox', 'kate/news']);
  });

  it.skipIf(!toolsAvailable(MOSQUITTO_SUB))(
    'mosquitto_sub -c with several -t on one node receives what is published on another',
    async () => {
      // stdbuf -oL: mosquitto_sub's stdout is a pipe here; line-buffered, its SUBACK line is the barrier.
      const tool = startTool(
        'stdbuf',
        [
          ...['-oL', 'mosquitto_sub', '-h', 'localhost', '-p', String(a.ports.mqtts)],
          ...['--cafile', `${TEST_CERTS_DIR}/ca.crt`, '-u', 'JWT', '-P', userToken('leo')],
          ...['-i', 'leo/mosquitto', '-q', '1', '-c', '-v', '-d', '-t', 'leo/a', '-t', 'leo/b', '-C', '2'],
        ],
        { timeoutMs: 15_000 },
      );
      try {
        await tool.waitForOutput('Subscribed (mid: 1): 1, 1');
        const publisher = await connected(client(b, 'leo/web', userToken('leo')));
        await publisher.publishAsync('leo/a', 'first', { qos: 1 });
        await publisher.publishAsync('leo/b', 'second', { qos: 1 });
        const result = await tool.finished;
        expect(result.stdout).toContain('leo/a first\n');
        expect(result.stdout).toContain('leo/b second\n');
      } finally {
        tool.stop();
      }
    },
  );
});
