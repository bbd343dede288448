// Topic names may hold any UTF-8 character but NUL, `+` and `#` (MQTT-4.7): characters that mean
// something to Redis' PSUBSCRIBE patterns (`*`, `?`, `[`, `]`, `\`) are plain characters in both
// modes, in topic names and in wildcard filters alike.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { closeAll, connectClient, connected, recordMessages, subscribeRaw } from '../support/clients.ts';
import { userToken } from '../support/tokens.ts';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

const LEVELS = ['[x]', 'a\\b', 'what?', 'star*', '[^a]', 'x[y'];

it.each(LEVELS)(
  'delivers through a wildcard filter around the level %s, and only what matches',
  async (level) => {
    const client = await connected(connectClient(broker, 'mqtts', 'tess/chars', userToken('tess')));
    const inbox = recordMessages(client);
    expect(await subscribeRaw(client, [`tess/${level}/+`, `tess/exact/${level}`])).toEqual([1, 1]);
    await client.publishAsync(`tess/${level}/y`, 'wildcard', { qos: 1 });
    await client.publishAsync(`tess/exact/${level}`, 'exact', { qos: 1 });
    await client.publishAsync('tess/a/y', 'not matching', { qos: 1 });
    expect((await inbox.waitFor(`tess/${level}/y`)).payload).toBe('wildcard');
    expect((await inbox.waitFor(`tess/exact/${level}`)).payload).toBe('exact');
    await client.publishAsync('tess/marker', 'm', { qos: 1 });
    await closeAll(client);
    expect(inbox.messages.map((message) => message.topic)).not.toContain('tess/a/y');
  },
);

it.each(LEVELS)('serves a retained message through a wildcard filter around the level %s', async (level) => {
  const publisher = await connected(connectClient(broker, 'mqtts', 'tess/retainer', userToken('tess')));
  await publisher.publishAsync(`tess/kept/${level}/y`, 'retained', { qos: 1, retain: true });
  await publisher.publishAsync(`tess/kept/${level}-other/y`, 'not matching', { qos: 1, retain: true });
  const client = await connected(connectClient(broker, 'mqtts', 'tess/reader', userToken('tess')));
  const inbox = recordMessages(client);
  expect(await subscribeRaw(client, [`tess/kept/${level}/+`, 'tess/kept/marker'])).toEqual([1, 1]);
  expect((await inbox.waitFor(`tess/kept/${level}/y`)).payload).toBe('retained');
  await publisher.publishAsync('tess/kept/marker', 'm', { qos: 1 });
  await inbox.waitFor('tess/kept/marker');
  expect(inbox.messages.filter((message) => message.retain)).toEqual([
    { topic: `tess/kept/${level}/y`, payload: 'retained', retain: true },
  ]);
  await closeAll(publisher, client);
});
