// Several filters in one SUBSCRIBE, persistent and clean, from mqtt.js and from mosquitto_sub: one
// SUBACK with a code per filter, and every granted filter delivers (issue 14: on Redis, a persistent
// session's SUBSCRIBE with two filters never got its SUBACK; broker/cluster/redis-persistence.ts).
// Runs in both test modes (CASHEW_TEST_MODE); the cross-node cases are in test/cluster.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, TEST_CERTS_DIR, type TestBroker } from '../support/broker.ts';
import { closeAll, connectClient, connected, recordMessages, subscribeRaw } from '../support/clients.ts';
import { MOSQUITTO_SUB, startTool, toolsAvailable, type RunningTool } from '../support/system-tools.ts';
import { userToken } from '../support/tokens.ts';
import { nextSubscribe } from '../interop/broker-events.ts';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

const SESSIONS = [
  { name: 'persistent', clean: false },
  { name: 'clean', clean: true },
] as const;

describe.each(SESSIONS)('a $name session (mqtt.js)', ({ name, clean }) => {
  it('gets one SUBACK for a list of filters and receives on each', async () => {
    const client = await connected(
      connectClient(broker, 'mqtts', `alice/list-${name}`, userToken('alice'), { clean }),
    );
    const inbox = recordMessages(client);
    expect(await subscribeRaw(client, [`alice/${name}/a`, `alice/${name}/b/+`])).toEqual([1, 1]);
    await client.publishAsync(`alice/${name}/a`, 'one', { qos: 1 });
    await client.publishAsync(`alice/${name}/b/c`, 'two', { qos: 1 });
    expect((await inbox.waitFor(`alice/${name}/a`)).payload).toBe('one');
    expect((await inbox.waitFor(`alice/${name}/b/c`)).payload).toBe('two');
    await closeAll(client);
  });

  it('grants its own filters and refuses a foreign one within the same SUBSCRIBE', async () => {
    const client = await connected(
      connectClient(broker, 'mqtts', `alice/mixed-${name}`, userToken('alice'), { clean }),
    );
    expect(await subscribeRaw(client, [`alice/${name}/m1`, 'bob/#', `alice/${name}/m2`])).toEqual([
      1, 128, 1,
    ]);
    await closeAll(client);
  });

  it('answers two SUBSCRIBEs sent back to back with the same first filter, and an UNSUBSCRIBE after them', async () => {
    const client = await connected(
      connectClient(broker, 'mqtts', `alice/burst-${name}`, userToken('alice'), { clean }),
    );
    const first = subscribeRaw(client, [`alice/${name}/x`, `alice/${name}/y`]);
    const second = subscribeRaw(client, [`alice/${name}/x`, `alice/${name}/z`]);
    const unsubscribed = client.unsubscribeAsync([`alice/${name}/y`]);
    expect(await Promise.all([first, second])).toEqual([
      [1, 1],
      [1, 1],
    ]);
    await unsubscribed;
    await closeAll(client);
  });
});

it('a persistent session subscribed with a list receives, after a reconnect, what was queued for each filter', async () => {
  const sessionId = 'carol/offline';
  const session = { clean: false } as const;
  const first = await connected(connectClient(broker, 'wss', sessionId, userToken('carol'), session));
  expect(await subscribeRaw(first, ['carol/news', 'carol/mail/+'])).toEqual([1, 1]);
  await first.endAsync();

  const other = await connected(connectClient(broker, 'mqtts', 'carol/other', userToken('carol')));
  await other.publishAsync('carol/news', 'queued-news', { qos: 1 });
  await other.publishAsync('carol/mail/inbox', 'queued-mail', { qos: 1 });

  const second = connectClient(broker, 'wss', sessionId, userToken('carol'), session);
  const inbox = recordMessages(second);
  await connected(second);
  expect((await inbox.waitFor('carol/news')).payload).toBe('queued-news');
  expect((await inbox.waitFor('carol/mail/inbox')).payload).toBe('queued-mail');
  await closeAll(other, second);
});

const mosquittoAvailable = toolsAvailable(MOSQUITTO_SUB);

describe.skipIf(!mosquittoAvailable)('mosquitto_sub with several -t', () => {
  const running: RunningTool[] = [];
  afterAll(async () => {
    for (const tool of running) tool.stop();
    await Promise.all(running.map((tool) => tool.finished));
  });

  it.each(SESSIONS)(
    '$name session (-c for persistent): SUBACK for every filter, a message on each',
    async ({ name, clean }) => {
      const clientId = `dave/mosquitto-${name}`;
      const subscribed = nextSubscribe(broker, clientId);
      const tool = startTool(
        'mosquitto_sub',
        [
          ...['-h', 'localhost', '-p', String(broker.ports.mqtts), '--cafile', `${TEST_CERTS_DIR}/ca.crt`],
          ...['-u', 'JWT', '-P', userToken('dave'), '-i', clientId, '-q', '1', '-v', '-d', '-C', '2'],
          ...(clean ? [] : ['-c']),
          ...['-t', `dave/${name}/a`, '-t', `dave/${name}/b`],
        ],
        { timeoutMs: 15_000 },
      );
      running.push(tool);
      expect(await subscribed).toEqual([1, 1]);
      const publisher = await connected(connectClient(broker, 'mqtts', 'dave/pub', userToken('dave')));
      await publisher.publishAsync(`dave/${name}/a`, 'first', { qos: 1 });
      await publisher.publishAsync(`dave/${name}/b`, 'second', { qos: 1 });
      const result = await tool.finished;
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('Subscribed (mid: 1): 1, 1');
      expect(result.stdout).toContain(`dave/${name}/a first\n`);
      expect(result.stdout).toContain(`dave/${name}/b second\n`);
      await closeAll(publisher);
    },
  );
});
