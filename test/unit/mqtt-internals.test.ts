// Pins the two mqtt.js internals the handler runtime relies on (handlers/mqtt-internals.ts) against
// the installed mqtt.js and a real broker: a `handleMessage` error means "no PUBACK, read on", and
// `_sendPacket` sends the PUBACK later. The broker side records the PUBACKs in the order they arrive.
import type { Client } from 'aedes';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { onClientAcknowledgement } from '../../broker/aedes/client-internals.ts';
import { sendPuback, SKIP_PUBACK } from '../../handlers/mqtt-internals.ts';
import { connectBare, nextEvent, startBareAedes, type BareAedes } from '../support/bare-aedes.ts';
import { closeAll } from '../support/clients.ts';

let broker: BareAedes | undefined;
let client: MqttClient | undefined;

afterEach(async () => {
  if (client !== undefined) await closeAll(client);
  await broker?.close();
  client = undefined;
  broker = undefined;
});

function publishFromBroker(bare: BareAedes, topic: string): void {
  const packet = { cmd: 'publish' as const, topic, payload: Buffer.from(topic), qos: 1 as const };
  bare.aedes.publish({ ...packet, retain: false, dup: false }, () => undefined);
}

describe('mqtt.js 5 internals used by handlers/deferred-ack.ts', () => {
  it('SKIP_PUBACK: no PUBACK is sent and the next message is still handed over; sendPuback sends it later', async () => {
    const bare = await startBareAedes();
    broker = bare;
    const serverSide = nextEvent<[Client]>(bare.aedes, 'client');
    const subscriber = await connectBare(bare.tcpUrl, { clientId: 'deferred' });
    client = subscriber;
    const [server] = await serverSide;
    const acknowledged: number[] = [];
    onClientAcknowledgement(server, (messageId) => acknowledged.push(messageId));

    const handed: { topic: string; messageId: number }[] = [];
    let bothHanded = (): void => undefined;
    const handedOver = new Promise<void>((resolve) => (bothHanded = resolve));
    subscriber.handleMessage = (packet, callback) => {
      handed.push({ topic: packet.topic, messageId: packet.messageId ?? -1 });
      if (handed.length === 2) bothHanded();
      callback(SKIP_PUBACK);
    };
    await subscriber.subscribeAsync('d/#', { qos: 1 });
    publishFromBroker(bare, 'd/1');
    publishFromBroker(bare, 'd/2');
    await handedOver; // the second arrived although the first was never acknowledged
    expect(handed.map((message) => message.topic)).toEqual(['d/1', 'd/2']);

    const [first, second] = handed;
    sendPuback(subscriber, second!.messageId);
    sendPuback(subscriber, first!.messageId);
    // One more round trip: whatever the client sent before it has reached the broker by then.
    await subscriber.publishAsync('d/flush', 'x', { qos: 1 });
    expect(acknowledged).toEqual([second!.messageId, first!.messageId]);
  });

  it('a message handled without error is acknowledged by mqtt.js itself (the contrast)', async () => {
    const bare = await startBareAedes();
    broker = bare;
    const serverSide = nextEvent<[Client]>(bare.aedes, 'client');
    const subscriber = await connectBare(bare.tcpUrl, { clientId: 'plain' });
    client = subscriber;
    const [server] = await serverSide;
    const acknowledged = new Promise<number>((resolve) => onClientAcknowledgement(server, resolve));
    await subscriber.subscribeAsync('d/#', { qos: 1 });
    const received = nextEvent<[string, Buffer, { messageId?: number }]>(subscriber, 'message');
    publishFromBroker(bare, 'd/1');
    const [, , packet] = await received;
    expect(await acknowledged).toBe(packet.messageId);
  });
});
