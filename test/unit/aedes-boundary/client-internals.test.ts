// Pins the aedes internals read by broker/aedes/client-internals.ts against the installed aedes: a real
// broker, real mqtt.js clients over real sockets. An upgrade that moves one of them fails here, by name.
import type { PublishPacket } from 'aedes';
import { describe, expect, it } from 'vitest';
import {
  declaredWill,
  deliverUnder,
  onClientAcknowledgement,
  remoteAddressOf,
  screenSubscribes,
  subscriptionQos,
} from '../../../broker/aedes/client-internals.ts';
import { nextEvent, useBareAedes } from '../../support/bare-aedes.ts';

const { start, connect, nextClient } = useBareAedes();

describe('client-internals.ts (aedes 1.2 lib/client.js, lib/handlers/connect.js, subscribe.js)', () => {
  it('screenSubscribes: sees each SUBSCRIBE first; a refused one is neither authorized, subscribed nor acknowledged', async () => {
    const screened: number[] = [];
    const authorized: string[] = [];
    const bare = await start({
      preConnect: (client, _packet, done) => {
        screenSubscribes(client, 'f1', (_client, _clientId, filterCount) => {
          screened.push(filterCount);
          return filterCount <= 2;
        });
        done(null, true);
      },
      authorizeSubscribe: (_client, subscription, done) => {
        authorized.push(subscription.topic);
        done(null, subscription);
      },
    });
    const serverSide = nextClient(bare);
    const client = await connect(bare.tcpUrl, { clientId: 'f1' });
    const server = await serverSide;
    const subacks: number[] = [];
    client.on('packetreceive', (packet) => {
      if (packet.cmd === 'suback') subacks.push(packet.messageId ?? 0);
    });
    await client.subscribeAsync(['a/1', 'a/2'], { qos: 1 });
    // aedes handles the emptied packet: a 'subscribe' event with no filter, no SUBACK.
    const handled = nextEvent<[unknown[]]>(bare.aedes, 'subscribe');
    client.subscribe(['b/1', 'b/2', 'b/3'], { qos: 1 });
    const [subscriptions] = await handled;
    expect(subscriptions).toEqual([]);
    await client.publishAsync('a/1', 'after', { qos: 1 }); // a round trip: a SUBACK would be here by now
    expect(screened).toEqual([2, 3]);
    expect(authorized).toEqual(['a/1', 'a/2']);
    expect(subacks).toHaveLength(1);
    expect(subscriptionQos(server, 'a/1')).toBe(1);
    expect(subscriptionQos(server, 'b/1')).toBeUndefined();
    // The screen took the place of aedes' own listener (one listener: no array copy per packet).
    const parser = (server as unknown as { _parser: { listenerCount(event: string): number } })._parser;
    expect(parser.listenerCount('packet')).toBe(1);
  });

  it('declaredWill: the CONNECT will is there while authenticate runs, before aedes copies it to client.will', async () => {
    const seen: { declared: PublishPacket | undefined; typed: unknown }[] = [];
    const bare = await start({
      authenticate: (client, _username, _password, done) => {
        seen.push({ declared: declaredWill(client), typed: (client as { will?: unknown }).will });
        done(null, true);
      },
    });
    const will = { topic: 'w1/gone', payload: Buffer.from('bye'), qos: 1 as const, retain: false };
    await connect(bare.tcpUrl, { clientId: 'w1', will });
    await connect(bare.tcpUrl, { clientId: 'w2' });
    expect(seen).toHaveLength(2);
    expect(seen[0]?.declared).toMatchObject({ topic: 'w1/gone', qos: 1, retain: false });
    expect(seen[0]?.declared?.payload.toString()).toBe('bye');
    expect(seen[0]?.typed ?? null).toBeNull();
    expect(seen[1]?.declared).toBeUndefined();
  });

  it('remoteAddressOf: the socket of a TCP/TLS client, the upgrade request of a WebSocket one', async () => {
    const seen: { address: string | undefined; hasRequest: boolean }[] = [];
    const bare = await start({
      authenticate: (client, _username, _password, done) => {
        seen.push({ address: remoteAddressOf(client), hasRequest: client.req !== undefined });
        done(null, true);
      },
    });
    await connect(bare.tcpUrl, { clientId: 'tcp' });
    await connect(bare.wsUrl, { clientId: 'ws' });
    expect(seen).toEqual([
      { address: '127.0.0.1', hasRequest: false },
      { address: '127.0.0.1', hasRequest: true },
    ]);
  });

  it('subscriptionQos: the live subscriptions by filter with the granted QoS, nothing inherited', async () => {
    const bare = await start();
    const serverSide = nextClient(bare);
    const client = await connect(bare.tcpUrl, { clientId: 's1' });
    const server = await serverSide;
    await client.subscribeAsync({ 's/+': { qos: 1 }, 'z/#': { qos: 0 } });
    expect(subscriptionQos(server, 's/+')).toBe(1);
    expect(subscriptionQos(server, 'z/#')).toBe(0);
    expect(subscriptionQos(server, 's/#')).toBeUndefined();
    expect(subscriptionQos(server, 'constructor')).toBeUndefined();
    expect(subscriptionQos(server, '__proto__')).toBeUndefined();
    await client.unsubscribeAsync('s/+');
    expect(subscriptionQos(server, 's/+')).toBeUndefined();
  });

  it('onClientAcknowledgement: every PUBACK the client sends, with the message id it acknowledges', async () => {
    const bare = await start();
    const serverSide = nextClient(bare);
    const client = await connect(bare.tcpUrl, { clientId: 'a1' });
    const server = await serverSide;
    await client.subscribeAsync('a/#', { qos: 1 });
    const acknowledged = new Promise<number>((resolve) => onClientAcknowledgement(server, resolve));
    const received = nextEvent<[string, Buffer, { messageId?: number }]>(client, 'message');
    bare.aedes.publish(
      { cmd: 'publish', topic: 'a/1', payload: Buffer.from('x'), qos: 1, retain: false, dup: false },
      () => undefined,
    );
    const [, , packet] = await received;
    expect(packet.messageId).toEqual(expect.any(Number));
    expect(await acknowledged).toBe(packet.messageId);
  });
  it('deliverUnder: straight to one client, under the dedupe key given; a key already delivered is dropped', async () => {
    const forwarded: [string, string, number][] = [];
    const bare = await start({
      authorizeForward: (_client, packet) => {
        forwarded.push([packet.topic, packet.brokerId, packet.brokerCounter]);
        return packet;
      },
    });
    const serverSide = nextClient(bare);
    const client = await connect(bare.tcpUrl, { clientId: 'd1' });
    const server = await serverSide;
    await client.subscribeAsync('r/#', { qos: 1 });
    const received: string[] = [];
    client.on('message', (topic) => received.push(topic));
    const message = (topic: string) => ({ topic, payload: Buffer.from(topic), qos: 1 as const });
    const delivered = (topic: string, counter: number) =>
      new Promise<void>((resolve, reject) =>
        deliverUnder(server, message(topic), { brokerId: 'redispatch', brokerCounter: counter }, (error) =>
          error === undefined || error === null ? resolve() : reject(error),
        ),
      );
    let next = nextEvent(client, 'message');
    await delivered('r/1', 5);
    await next;
    await delivered('r/2', 5); // the same key again: aedes drops it
    next = nextEvent(client, 'message');
    await delivered('r/3', 6);
    await next;
    expect(received).toEqual(['r/1', 'r/3']);
    expect(forwarded).toEqual([
      ['r/1', 'redispatch', 5],
      ['r/3', 'redispatch', 6],
    ]);
  });
});
