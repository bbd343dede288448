// The will is held to the publish rules when it is declared: outside the partition the CONNECT is
// refused; inside, it is published when the client dies and reaches the owner's subscriber.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditOf, startTestBroker, type TestBroker } from '../support/broker.ts';
import {
  closeAll,
  connectClient,
  connected,
  recordMessages,
  refusalCode,
  subscribeRaw,
  TRANSPORTS,
} from '../support/clients.ts';
import { handlerToken, userToken } from '../support/tokens.ts';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

describe.each(TRANSPORTS)('over %s', (transport) => {
  it.each(['4711/status', '$SYS/status', '68946x/status'])(
    'refuses a CONNECT whose will is on %s: CONNACK 5, audit action will',
    async (topic) => {
      const clientId = `68946/will-${transport}-${topic.replace(/[/$]/g, '_')}`;
      const will = { topic, payload: Buffer.from('gone'), qos: 1 as const, retain: false };
      const client = connectClient(broker, transport, clientId, userToken('68946'), { will });
      expect(await refusalCode(client)).toBe(5);
      const audit = await broker.waitForLog(auditOf(clientId, 'will'));
      expect(audit).toMatchObject({ code: 'ERR_WILL_NOT_AUTHORIZED', identity: 'user:68946', returnCode: 5 });
      await closeAll(client);
    },
  );

  it('refuses a handler will on an event it was not granted', async () => {
    const clientId = `$handler/apples/will-${transport}`;
    const will = { topic: '68946/got_pears', payload: Buffer.from('x'), qos: 0 as const, retain: false };
    const client = connectClient(broker, transport, clientId, handlerToken('apples', [], ['got_apples']), {
      will,
    });
    expect(await refusalCode(client)).toBe(5);
    await broker.waitForLog(auditOf(clientId, 'will'));
  });

  it("publishes an allowed will when the client dies, to the owner's subscriber", async () => {
    const watcher = await connected(
      connectClient(broker, transport, `68946/watcher-${transport}`, userToken('68946')),
    );
    expect(await subscribeRaw(watcher, ['68946/status'])).toEqual([1]);
    const inbox = recordMessages(watcher);
    const will = { topic: '68946/status', payload: Buffer.from('offline'), qos: 1 as const, retain: false };
    const device = await connected(
      connectClient(broker, transport, `68946/phone-${transport}`, userToken('68946'), { will }),
    );
    device.stream.destroy(); // dies without DISCONNECT
    expect((await inbox.waitFor('68946/status')).payload).toBe('offline');
    await closeAll(watcher, device);
  });
});
