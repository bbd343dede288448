// Presence when the embedder gives aedes an emitter shared with other brokers (StartDependencies.aedes.mq,
// scale-out without REDIS_URL): a handler granted presence on one broker hears the users of another,
// though none connected to that other broker. One process alone publishes nothing until such a
// handler has connected to it (presence-tracker.ts, `granted-here`); a shared emitter must not.
import mqemitter from 'mqemitter';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { closeAll, connectClient, connected } from '../support/clients.ts';
import { recordPresence } from '../support/presence.ts';
import { presenceHandlerToken, userToken } from '../support/tokens.ts';

let watched: TestBroker;
let watching: TestBroker;
beforeAll(async () => {
  // Memory mode on both: the shared in-process emitter is the only link between them.
  const mq = mqemitter();
  const memory = { REDIS_URL: '' };
  watched = await startTestBroker(memory, { aedes: { mq } });
  watching = await startTestBroker(memory, { aedes: { mq } });
});
afterAll(async () => {
  await watched.close();
  await watching.close();
});

it('a user on one broker is announced to a presence handler on another that shares the emitter', async () => {
  const handler = await connected(
    connectClient(watching, 'mqtts', '$handler/push/1', presenceHandlerToken('push')),
  );
  await handler.subscribeAsync('$cashew/presence/+', { qos: 1 });
  const presence = recordPresence(handler);
  const phone = await connected(connectClient(watched, 'mqtts', 'dora/phone', userToken('dora')));
  const online = await presence.waitFor((event) => event.userId === 'dora' && event.online, 5000);
  expect(online).toMatchObject({ userId: 'dora', online: true, devices: 1 });
  await closeAll(phone, handler);
});
