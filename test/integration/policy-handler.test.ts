// The handler invariants over real TLS and WSS sockets: subscribe `+/<command>` for granted commands,
// publish `<userId>/<event>` for granted events and `<userId>/<command>/reply` for served commands.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditOf, startTestBroker, type TestBroker } from '../support/broker.ts';
import {
  closeAll,
  connectClient,
  connected,
  recordMessages,
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
  const handler = (name: string, commands: string[], events: string[], suffix: string) =>
    connected(
      connectClient(
        broker,
        transport,
        `$handler/${name}/${transport}-${suffix}`,
        handlerToken(name, commands, events),
      ),
    );
  const user = (id: string, suffix: string) =>
    connected(connectClient(broker, transport, `${id}/${transport}-${suffix}`, userToken(id)));

  it('subscribes +/<command> for granted commands only; every other filter gets 0x80', async () => {
    const apples = await handler('apples', ['get_apples'], ['got_apples'], 'sub');
    const filters = [
      '+/get_apples',
      '+/get_pears',
      '#',
      '+/#',
      '+/+',
      '68946/#',
      '68946/get_apples',
      '$SYS/#',
    ];
    expect(await subscribeRaw(apples, filters)).toEqual([1, 128, 128, 128, 128, 128, 128, 128]);
    expect(apples.connected).toBe(true);
    const audit = await broker.waitForLog(
      (line) =>
        auditOf(`$handler/apples/${transport}-sub`, 'subscribe')(line) && line.topic === '+/get_pears',
    );
    expect(audit).toMatchObject({ identity: 'handler:apples', code: 'ERR_SUBSCRIBE_NOT_AUTHORIZED' });
    await closeAll(apples);
  });

  it('receives commands of every user and answers with granted events and replies only', async () => {
    const apples = await handler('apples', ['get_apples'], ['got_apples'], 'serve');
    expect(await subscribeRaw(apples, ['+/get_apples'])).toEqual([1]);
    const commands = recordMessages(apples);
    const device = await user('68946', 'serve');
    expect(await subscribeRaw(device, ['68946/#'])).toEqual([1]);
    const inbox = recordMessages(device);

    await device.publishAsync('68946/get_apples', '{"n":2}', { qos: 1 });
    expect((await commands.waitFor('68946/get_apples')).payload).toBe('{"n":2}');

    // refused: an event or a reply not granted, a $-topic; each acked and dropped, the handler stays up
    await apples.publishAsync('68946/got_pears', 'x', { qos: 1 });
    await apples.publishAsync('68946/get_pears/reply', 'x', { qos: 1 });
    await apples.publishAsync('68946/got_apples/extra', 'x', { qos: 1 });
    await apples.publishAsync('$SYS/got_apples', 'x', { qos: 1 });
    await broker.waitForLog(
      (line) =>
        auditOf(`$handler/apples/${transport}-serve`, 'publish')(line) && line.topic === '68946/got_pears',
    );
    expect(apples.connected).toBe(true);

    // allowed: the granted event and the reply to the served command (the barrier)
    await apples.publishAsync('68946/got_apples', '["a","b"]', { qos: 1 });
    await apples.publishAsync('68946/get_apples/reply', '{"ok":true}', { qos: 1 });
    await inbox.waitFor('68946/get_apples/reply');
    expect(inbox.messages.map((m) => m.topic)).toEqual([
      '68946/get_apples',
      '68946/got_apples',
      '68946/get_apples/reply',
    ]);
    // the handler never receives events or replies, only commands
    expect(commands.messages.map((m) => m.topic)).toEqual(['68946/get_apples']);
    await closeAll(apples, device);
  });

  it("never hands a handler's event to another handler as that user's command", async () => {
    const apples = await handler('apples', ['get_apples'], [], 'victim');
    const impostor = await handler('impostor', [], ['get_apples'], 'impostor');
    expect(await subscribeRaw(apples, ['+/get_apples'])).toEqual([1]);
    const commands = recordMessages(apples);
    const device = await user('68946', 'impostor');
    await impostor.publishAsync('68946/get_apples', 'forged', { qos: 1 });
    await broker.waitForLog(
      (line) =>
        auditOf(`$handler/apples/${transport}-victim`, 'forward')(line) && line.topic === '68946/get_apples',
    );
    await device.publishAsync('68946/get_apples', 'genuine', { qos: 1 });
    await commands.waitFor('68946/get_apples');
    expect(commands.messages.map((m) => m.payload)).toEqual(['genuine']);
    await closeAll(apples, impostor, device);
  });

  it('an explicit "*" grants every command and event; omission grants nothing', async () => {
    const all = await handler('all', ['*'], ['*'], 'star');
    const none = await handler('none', [], [], 'none');
    expect(await subscribeRaw(all, ['+/anything'])).toEqual([1]);
    expect(await subscribeRaw(none, ['+/anything'])).toEqual([128]);
    const device = await user('4711', 'star');
    expect(await subscribeRaw(device, ['4711/#'])).toEqual([1]);
    const inbox = recordMessages(device);
    await none.publishAsync('4711/whatever', 'no', { qos: 1 });
    await none.publishAsync('4711/anything/reply', 'no', { qos: 1 });
    await all.publishAsync('4711/whatever', 'yes', { qos: 1 });
    await all.publishAsync('4711/anything/reply', 'yes', { qos: 1 });
    await inbox.waitFor('4711/anything/reply');
    expect(inbox.messages.map((m) => [m.topic, m.payload])).toEqual([
      ['4711/whatever', 'yes'],
      ['4711/anything/reply', 'yes'],
    ]);
    await closeAll(all, none, device);
  });
});
