// Pins the aedes internals read by broker/aedes/packet-internals.ts (and the will handling of
// aedes.brokers) against the installed aedes and aedes-persistence.
import type { PublishPacket } from 'aedes';
import { describe, expect, it } from 'vitest';
import { markBrokersAlive } from '../../../broker/aedes/broker-internals.ts';
import { publisherIdOf } from '../../../broker/aedes/packet-internals.ts';
import { memoryPersistence } from '../../../broker/aedes/persistence/memory-internals.ts';
import { nextEvent, useBareAedes } from '../../support/bare-aedes.ts';

const { start, connect } = useBareAedes();

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
