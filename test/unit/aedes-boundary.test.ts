// Pins every aedes, aedes-persistence and mqemitter-redis internal Cashew relies on (the
// broker/aedes/*-internals.ts modules) and the aedes client events the client lifecycle follows,
// against the installed versions: a real aedes, real mqtt.js clients over real sockets. An upgrade
// that moves one of them fails here, by name, instead of somewhere in production.
import type { Client, PublishPacket } from 'aedes';
import { finished } from 'node:stream/promises';
import { Redis } from 'ioredis';
import mqemitterRedis from 'mqemitter-redis';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import {
  hasLocalClient,
  markBrokersAlive,
  onBrokerError,
  persistenceOf,
  skipPublications,
} from '../../broker/aedes/broker-internals.ts';
import {
  declaredWill,
  deliverUnder,
  onClientAcknowledgement,
  remoteAddressOf,
  subscriptionQos,
} from '../../broker/aedes/client-internals.ts';
import { onEmitterError } from '../../broker/aedes/emitter-internals.ts';
import { publisherIdOf } from '../../broker/aedes/packet-internals.ts';
import { memoryPersistence } from '../../broker/aedes/persistence/memory-internals.ts';
import { partitionedMemoryPersistence } from '../../broker/aedes/persistence/partitioned-memory.ts';
import { connectBare, nextEvent, startBareAedes, type BareAedes } from '../support/bare-aedes.ts';
import { closeAll } from '../support/clients.ts';

let broker: BareAedes | undefined;
const clients: MqttClient[] = [];

async function start(options: Parameters<typeof startBareAedes>[0] = {}): Promise<BareAedes> {
  broker = await startBareAedes(options);
  return broker;
}

async function connect(url: string, options: Parameters<typeof connectBare>[1] = {}): Promise<MqttClient> {
  const client = await connectBare(url, options);
  clients.push(client);
  return client;
}

/** The broker-side Client of the next connection. */
function nextClient(bare: BareAedes): Promise<Client> {
  return nextEvent<[Client]>(bare.aedes, 'client').then(([client]) => client);
}

afterEach(async () => {
  await closeAll(...clients.splice(0));
  await broker?.close();
  broker = undefined;
});

describe('client-internals.ts (aedes 1.2 lib/client.js, lib/handlers/connect.js)', () => {
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

describe('packet-internals.ts (aedes 1.2 aedes.js emitPacket; aedes-persistence putWill)', () => {
  it("publisherIdOf: the publisher's client id on what aedes forwards, none on the broker's own messages", async () => {
    const forwarded: [string, string | undefined][] = [];
    const bare = await start({
      authorizeForward: (_client, packet) => {
        forwarded.push([packet.topic, publisherIdOf(packet)]);
        return packet;
      },
    });
    const subscriber = await connect(bare.tcpUrl, { clientId: 'sub' });
    const publisher = await connect(bare.tcpUrl, { clientId: 'pub-1' });
    await subscriber.subscribeAsync('p/#', { qos: 1 });
    const first = nextEvent(subscriber, 'message');
    await publisher.publishAsync('p/a', 'x', { qos: 1 });
    await first;
    const second = nextEvent(subscriber, 'message');
    bare.aedes.publish(
      { cmd: 'publish', topic: 'p/b', payload: Buffer.from('y'), qos: 0, retain: false, dup: false },
      () => undefined,
    );
    await second;
    expect(forwarded).toEqual([
      ['p/a', 'pub-1'],
      ['p/b', undefined],
    ]);
  });

  it('a will of a broker not heard from (aedes.brokers) is authorized with client = null and its client id; markBrokersAlive holds it back', async () => {
    // A stored will names the broker that stored it; setup() binds the store to a broker id.
    const store = memoryPersistence() as unknown as {
      setup(broker: { readonly id: string }): Promise<void>;
      putWill(client: { readonly id: string }, packet: PublishPacket): Promise<void>;
    };
    const will = (topic: string): PublishPacket => ({
      cmd: 'publish',
      topic,
      payload: Buffer.from('bye'),
      qos: 0,
      retain: false,
      dup: false,
    });
    await store.setup({ id: 'dead-node' });
    await store.putWill({ id: '68946/phone' }, will('68946/gone'));
    await store.setup({ id: 'quiet-node' });
    await store.putWill({ id: '4711/phone' }, will('4711/gone'));
    const orphans: { client: unknown; publisher: string | undefined; topic: string }[] = [];
    let published: (() => void) | undefined;
    const bare = await start({
      persistence: store,
      heartbeatInterval: 25, // wills checked every 4 heartbeats
      authorizePublish: (client, packet, done) => {
        if (client === null) {
          orphans.push({ client, publisher: publisherIdOf(packet), topic: packet.topic });
          published?.();
        }
        done(null);
      },
    });
    // quiet-node has sent no heartbeat: marked alive far ahead, its will must stay stored
    markBrokersAlive(bare.aedes, ['quiet-node'], Date.now() + 60_000);
    await new Promise<void>((resolve) => (published = resolve));
    expect(orphans).toEqual([{ client: null, publisher: '68946/phone', topic: '68946/gone' }]);
    // marked as last heard long ago, it is forgotten at the next check and its will published
    const next = new Promise<void>((resolve) => (published = resolve));
    markBrokersAlive(bare.aedes, ['quiet-node'], 0);
    await next;
    expect(orphans.at(-1)).toEqual({ client: null, publisher: '4711/phone', topic: '4711/gone' });
  });
});

describe('broker-internals.ts (aedes 1.2 aedes.js)', () => {
  it('hasLocalClient: aedes.clients holds the connected clients by id, nothing inherited', async () => {
    const bare = await start();
    const client = await connect(bare.tcpUrl, { clientId: 'h1' });
    expect(hasLocalClient(bare.aedes, 'h1')).toBe(true);
    expect(hasLocalClient(bare.aedes, 'h2')).toBe(false);
    expect(hasLocalClient(bare.aedes, 'constructor')).toBe(false);
    expect(hasLocalClient(bare.aedes, '__proto__')).toBe(false);
    const gone = nextEvent(bare.aedes, 'clientDisconnect');
    await client.endAsync();
    await gone;
    expect(hasLocalClient(bare.aedes, 'h1')).toBe(false);
  });

  it('persistenceOf: the persistence aedes runs on', async () => {
    const persistence = partitionedMemoryPersistence();
    const bare = await start({ persistence });
    expect(persistenceOf(bare.aedes)).toBe(persistence);
  });

  it('onBrokerError: aedes emits error when its periodic will check fails', async () => {
    const persistence = Object.assign(memoryPersistence(), {
      streamWill: () => {
        throw new Error('store away');
      },
    });
    const bare = await start({ persistence, heartbeatInterval: 10 });
    const error = await new Promise<Error>((resolve) => onBrokerError(bare.aedes, resolve));
    expect(error.message).toBe('store away');
  });

  it('skipPublications: client PUBLISHes, wills and $SYS announcements all go through aedes.publish', async () => {
    const bare = await start();
    const seen: string[] = [];
    skipPublications(bare.aedes, (topic) => {
      seen.push(topic);
      return topic.startsWith('drop/');
    });
    const subscriber = await connect(bare.tcpUrl, { clientId: 'sub' });
    await subscriber.subscribeAsync(['drop/#', 'keep/#'], { qos: 1 });
    const publisher = await connect(bare.tcpUrl, {
      clientId: 'pub',
      will: { topic: 'keep/will', payload: Buffer.from('w'), qos: 1, retain: false },
    });
    const received: string[] = [];
    subscriber.on('message', (topic) => received.push(topic));
    await publisher.publishAsync('drop/x', 'x', { qos: 1 }); // acknowledged although skipped
    const kept = nextEvent(subscriber, 'message');
    await publisher.publishAsync('keep/x', 'x', { qos: 1 });
    await kept;
    const will = nextEvent(subscriber, 'message');
    publisher.stream.destroy(); // no DISCONNECT: aedes publishes the will
    await will;
    expect(received).toEqual(['keep/x', 'keep/will']);
    expect(seen).toEqual(
      expect.arrayContaining([`$SYS/${bare.aedes.id}/new/clients`, 'drop/x', 'keep/x', 'keep/will']),
    );
  });
});

describe("aedes' client events (client-lifecycle.ts)", () => {
  it("'client' when aedes registers a client (before CONNACK), 'clientDisconnect' when it closes", async () => {
    const bare = await start();
    const events: string[] = [];
    const record = (name: string) => (client: Client) => events.push(`${name}:${client.id}`);
    bare.aedes.on('client', record('client'));
    bare.aedes.on('connackSent', (_packet, client) => events.push(`connack:${client.id}`));
    bare.aedes.on('clientReady', record('ready'));
    bare.aedes.on('clientDisconnect', record('disconnect'));
    const client = await connect(bare.tcpUrl, { clientId: 'e1' });
    const gone = nextEvent(bare.aedes, 'clientDisconnect');
    client.stream.destroy();
    await gone;
    expect(events).toEqual(['client:e1', 'connack:e1', 'ready:e1', 'disconnect:e1']);
  });

  it('a client whose socket closes while authenticate is pending: its answer is ignored and no event fires', async () => {
    let pending: { client: Client; answer: (ok: boolean) => void } | undefined;
    let authenticating = (): void => undefined;
    const called = new Promise<void>((resolve) => (authenticating = resolve));
    const bare = await start({
      authenticate: (client, _username, _password, done) => {
        pending = { client, answer: (ok) => done(null, ok) };
        authenticating();
      },
    });
    const events: string[] = [];
    for (const event of ['client', 'clientReady', 'clientDisconnect'] as const)
      bare.aedes.on(event, () => events.push(event));
    const client = mqtt.connect(bare.tcpUrl, { clientId: 'slow', protocolVersion: 4, reconnectPeriod: 0 });
    client.on('error', () => undefined);
    clients.push(client);
    await called;
    const server = pending!.client;
    const socketFinished = finished(server.conn).catch(() => undefined); // after aedes' own listener
    client.stream.destroy();
    await socketFinished;
    expect(server.closed).toBe(true);
    pending!.answer(true); // aedes checks client.closed synchronously in its callback
    expect(events).toEqual([]);
    expect(bare.aedes.connectedClients).toBe(0);
    expect(hasLocalClient(bare.aedes, 'slow')).toBe(false);
  });
});

describe('emitter-internals.ts (mqemitter-redis 7.2 mqemitter-redis.js)', () => {
  it("onEmitterError: the errors of both Redis connections come out of the emitter's state", () => {
    const subConn = new Redis({ lazyConnect: true });
    const pubConn = new Redis({ lazyConnect: true });
    try {
      const mq = mqemitterRedis({ subConn, pubConn });
      const errors: string[] = [];
      onEmitterError(mq, (error) => errors.push(error.message));
      subConn.emit('error', new Error('sub down'));
      pubConn.emit('error', new Error('pub down'));
      expect(errors).toEqual(['sub down', 'pub down']);
    } finally {
      subConn.disconnect();
      pubConn.disconnect();
    }
  });
});

describe('memory-internals.ts (aedes-persistence 11; aedes 1.2 lib/handlers/publish.js, subscribe.js)', () => {
  it('aedes stores retained messages without a callback and replays them through createRetainedStreamCombi', async () => {
    const persistence = partitionedMemoryPersistence();
    const calls: unknown[][] = [];
    const storeRetained = persistence.storeRetained.bind(persistence);
    const combi = persistence.createRetainedStreamCombi.bind(persistence);
    persistence.storeRetained = (...args) => {
      calls.push(['storeRetained', args.length]);
      return storeRetained(...args);
    };
    persistence.createRetainedStreamCombi = (patterns) => {
      calls.push(['createRetainedStreamCombi', [...patterns]]);
      return combi(patterns);
    };
    const bare = await start({ persistence });
    const publisher = await connect(bare.tcpUrl, { clientId: 'rp' });
    await publisher.publishAsync('r/1', 'state', { qos: 1, retain: true });
    expect(persistence.retained.size).toBe(1);
    const subscriber = await connect(bare.tcpUrl, { clientId: 'rs' });
    const replayed = nextEvent<[string, Buffer, { retain: boolean }]>(subscriber, 'message');
    await subscriber.subscribeAsync({ 'r/#': { qos: 1 }, 'q/#': { qos: 1 } });
    const [topic, payload, packet] = await replayed;
    expect([topic, payload.toString(), packet.retain]).toEqual(['r/1', 'state', true]);
    expect(calls).toEqual([
      ['storeRetained', 1],
      ['createRetainedStreamCombi', ['r/#', 'q/#']],
    ]);
  });
});
