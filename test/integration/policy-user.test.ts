// The user invariants over real TLS and WSS sockets: subscribe and publish only inside the own
// partition; refusals are SUBACK 0x80 or an acknowledged drop, the connection stays up, nothing leaks.
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
  const user = (id: string, clientId: string) =>
    connected(connectClient(broker, transport, clientId, userToken(id)));

  it('grants the own filters of a SUBSCRIBE, refuses every other with 0x80, and stays connected', async () => {
    const device = await user('68946', `68946/sub-${transport}`);
    const filters = [
      '68946/#',
      '4711/#',
      '#',
      '+/contact_list',
      '+/#',
      '$SYS/#',
      '$cashew/refused',
      '68946x/#',
      '68946/contact_list',
      '68946',
    ];
    expect(await subscribeRaw(device, filters)).toEqual([1, 128, 128, 128, 128, 128, 128, 128, 1, 1]);
    expect(device.connected).toBe(true);
    const inbox = recordMessages(device);
    await device.publishAsync('68946/contact_list', '[]', { qos: 1 });
    expect((await inbox.waitFor('68946/contact_list')).payload).toBe('[]');
    const audit = await broker.waitForLog(
      (line) => auditOf(`68946/sub-${transport}`, 'subscribe')(line) && line.topic === '$SYS/#',
    );
    expect(audit).toMatchObject({
      identity: 'user:68946',
      code: 'ERR_SUBSCRIBE_NOT_AUTHORIZED',
      returnCode: 128,
      level: 40,
    });
    expect(typeof audit.reason).toBe('string');
    await closeAll(device);
  });

  it.each([0, 1, 2] as const)(
    'a QoS %i publish into another partition is acked, reaches nobody, and the publisher stays connected',
    async (qos) => {
      const owner = await user('4711', `4711/owner-${transport}-${qos}`);
      const handler = await connected(
        connectClient(
          broker,
          transport,
          `$handler/apples/${transport}-${qos}`,
          handlerToken('apples', ['get_apples'], []),
        ),
      );
      const attacker = await user('68946', `68946/attacker-${transport}-${qos}`);
      expect(await subscribeRaw(owner, ['4711/#'])).toEqual([1]);
      expect(await subscribeRaw(handler, ['+/get_apples'])).toEqual([1]);
      const ownerInbox = recordMessages(owner);
      const handlerInbox = recordMessages(handler);

      await attacker.publishAsync('4711/get_apples', 'forged', { qos, retain: true });
      await attacker.publishAsync('$SYS/forged', 'forged', { qos });
      await broker.waitForLog(
        (line) =>
          auditOf(`68946/attacker-${transport}-${qos}`, 'publish')(line) && line.topic === '4711/get_apples',
      );
      expect(attacker.connected).toBe(true);

      // Barriers: later allowed messages on the same routes arrive; the forged one never did.
      await owner.publishAsync('4711/get_apples', 'genuine', { qos: 1 });
      expect((await ownerInbox.waitFor('4711/get_apples')).payload).toBe('genuine');
      expect((await handlerInbox.waitFor('4711/get_apples')).payload).toBe('genuine');
      await attacker.publishAsync('68946/get_apples', 'own', { qos: 1 });
      expect((await handlerInbox.waitFor('68946/get_apples')).payload).toBe('own');
      expect(ownerInbox.messages.map((m) => m.payload)).toEqual(['genuine']);
      expect(handlerInbox.messages.map((m) => m.payload)).toEqual(['genuine', 'own']);

      // The forged publish was retained nowhere either: a fresh subscriber sees only the owner's retained message.
      await owner.publishAsync('4711/status', 'mine', { qos: 1, retain: true });
      const late = await user('4711', `4711/late-${transport}-${qos}`);
      const lateInbox = recordMessages(late);
      expect(await subscribeRaw(late, ['4711/#'])).toEqual([1]);
      expect((await lateInbox.waitFor('4711/status')).payload).toBe('mine');
      await late.publishAsync('4711/barrier', 'b', { qos: 1 });
      await lateInbox.waitFor('4711/barrier');
      expect(lateInbox.messages.map((m) => m.payload).sort()).toEqual(['b', 'mine']);
      await owner.publishAsync('4711/status', '', { qos: 1, retain: true }); // clear the retained message
      await closeAll(owner, handler, attacker, late);
    },
  );

  it('never delivers a retained message of another partition', async () => {
    const other = await user('5150', `5150/a-${transport}`);
    await other.publishAsync('5150/secret', 'theirs', { qos: 1, retain: true });
    const device = await user('68946', `68946/retained-${transport}`);
    await device.publishAsync('68946/status', 'mine', { qos: 1, retain: true });
    const inbox = recordMessages(device);
    expect(await subscribeRaw(device, ['5150/#', '68946/#', '#', '+/secret'])).toEqual([128, 1, 128, 128]);
    // The retained copy. With Redis the device's own publish may also reach it live: the emitter
    // delivers it from Redis after the PUBACK, and the new subscription may be in place by then.
    expect((await inbox.waitFor('68946/status', 5000, (message) => message.retain)).payload).toBe('mine');
    await device.publishAsync('68946/barrier', 'b', { qos: 1 });
    await inbox.waitFor('68946/barrier');
    expect(inbox.messages.filter((m) => m.topic.startsWith('5150'))).toEqual([]);
    await other.publishAsync('5150/secret', '', { qos: 1, retain: true });
    await device.publishAsync('68946/status', '', { qos: 1, retain: true });
    await closeAll(other, device);
  });
});
