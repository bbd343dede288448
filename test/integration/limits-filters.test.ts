// Filters per SUBSCRIBE packet, over real sockets: a packet with more than MAX_FILTERS_PER_SUBSCRIBE
// closes the connection and nothing of it is authorized, subscribed or stored in the session (a
// QoS 1 message published meanwhile to one of its filters is queued for nobody); a packet with
// exactly the limit is granted; other clients go on.
import mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import {
  closeAll,
  closed,
  connectClient,
  connected,
  openMqttsSocket,
  recordMessages,
  subscribeRaw,
  TRANSPORTS,
} from '../support/clients.ts';
import { userToken } from '../support/tokens.ts';

const LIMIT = 4;

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker({ MAX_FILTERS_PER_SUBSCRIBE: String(LIMIT) });
});
afterAll(async () => {
  await broker.close();
});

function filtersOf(user: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${user}/f${i}`);
}

/**
 * Reconnects `clientId` to its persistent session, subscribes to a marker and publishes it: resolves
 * with the topics received before the marker (queued messages arrive first) and the session's filters
 * on the broker.
 */
async function sessionAfterwards(user: string, clientId: string): Promise<string[]> {
  const again = await connected(connectClient(broker, 'mqtts', clientId, userToken(user), { clean: false }));
  const received = recordMessages(again);
  await again.subscribeAsync(`${user}/marker`, { qos: 1 });
  await again.publishAsync(`${user}/marker`, 'm', { qos: 1 });
  await received.waitFor(`${user}/marker`);
  await closeAll(again);
  return received.messages.map((message) => message.topic).filter((topic) => topic !== `${user}/marker`);
}

describe('MAX_FILTERS_PER_SUBSCRIBE', () => {
  for (const transport of TRANSPORTS) {
    it(`${transport}: a SUBSCRIBE with one filter too many is cut and audited, nothing of it subscribed; the limit itself passes`, async () => {
      const user = `51${transport.length}`;
      const clientId = `${user}/many-${transport}`;
      const bystander = await connected(connectClient(broker, transport, `${user}/by`, userToken(user)));
      await bystander.subscribeAsync(`${user}/f0`, { qos: 1 });
      const bystanderGot = recordMessages(bystander);

      const greedy = await connected(
        connectClient(broker, transport, clientId, userToken(user), { clean: false }),
      );
      const cut = closed(greedy);
      let subacked = false;
      greedy.subscribe(filtersOf(user, LIMIT + 1), { qos: 1 }, (_error, granted) => {
        subacked = granted !== undefined && granted.length > 0;
      });
      await cut;
      expect(subacked).toBe(false);
      const line = await broker.waitForLog(
        (entry) => entry.code === 'ERR_TOO_MANY_FILTERS' && entry.clientId === clientId,
      );
      expect(line).toMatchObject({ audit: 'refused', action: 'limit' });
      await closeAll(greedy);

      // Published while the session is away: queued for it only had the SUBSCRIBE been stored.
      await bystander.publishAsync(`${user}/f0`, 'while away', { qos: 1 });
      await bystanderGot.waitFor(`${user}/f0`);
      expect(await sessionAfterwards(user, clientId)).toEqual([]);
      expect(
        broker.logLines.filter(
          (entry) => entry.code === 'ERR_SUBSCRIBE_NOT_AUTHORIZED' && entry.clientId === clientId,
        ),
      ).toEqual([]);

      // Exactly the limit: granted.
      const fine = await connected(connectClient(broker, transport, `${user}/fine`, userToken(user)));
      expect(await subscribeRaw(fine, filtersOf(user, LIMIT), 1)).toEqual([1, 1, 1, 1]);
      expect(bystander.connected).toBe(true);
      await closeAll(fine, bystander);
    });
  }

  it('catches a SUBSCRIBE sent in the same chunk as the CONNECT (before aedes answers the CONNECT)', async () => {
    const user = '5199';
    const clientId = `${user}/pipelined`;
    const socket = await openMqttsSocket(broker);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const seen: string[] = [];
    parser.on('packet', (packet) => seen.push(packet.cmd));
    socket.on('data', (chunk: Buffer) => parser.parse(chunk));
    socket.on('error', () => undefined);
    const gone = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the broker kept the connection open')), 5000);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    const connect = mqttPacket.generate({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: false,
      clientId,
      keepalive: 0,
      username: 'JWT',
      password: Buffer.from(userToken(user)),
    });
    const subscribe = mqttPacket.generate({
      cmd: 'subscribe',
      messageId: 1,
      subscriptions: filtersOf(user, LIMIT + 1).map((topic) => ({ topic, qos: 1 as const })),
    });
    socket.write(Buffer.concat([connect, subscribe]));
    await gone.finally(() => socket.destroy());
    expect(seen).not.toContain('suback');
    await broker.waitForLog((entry) => entry.code === 'ERR_TOO_MANY_FILTERS' && entry.clientId === clientId);

    const publisher = await connected(connectClient(broker, 'mqtts', `${user}/pub`, userToken(user)));
    await publisher.publishAsync(`${user}/f1`, 'while away', { qos: 1 });
    await closeAll(publisher);
    expect(await sessionAfterwards(user, clientId)).toEqual([]);
  });
});
