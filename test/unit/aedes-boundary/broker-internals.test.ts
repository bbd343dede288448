// Pins the aedes internals read by broker/aedes/broker-internals.ts against the installed aedes.
import { describe, expect, it } from 'vitest';
import {
  hasLocalClient,
  localConnections,
  onBrokerError,
  persistenceOf,
  skipPublications,
} from '../../../broker/aedes/broker-internals.ts';
import { memoryPersistence } from '../../../broker/aedes/persistence/memory-internals.ts';
import { partitionedMemoryPersistence } from '../../../broker/aedes/persistence/partitioned-memory.ts';
import { nextEvent, useBareAedes } from '../../support/bare-aedes.ts';
import { resolveLimits } from '../../../broker/limits/limits.ts';

const RETAINED_LIMITS = resolveLimits({}).retained;

const { start, connect } = useBareAedes();

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

  it('localConnections: the connection of each registered client, which destroying closes', async () => {
    const bare = await start();
    const first = await connect(bare.tcpUrl, { clientId: 'c1' });
    const second = await connect(bare.tcpUrl, { clientId: 'c2' });
    const connections = localConnections(bare.aedes);
    expect(connections).toHaveLength(2);
    const gone = Promise.all([first, second].map((client) => nextEvent(client, 'close')));
    for (const connection of connections) connection.destroy();
    await gone;
    await expect.poll(() => localConnections(bare.aedes)).toEqual([]);
  });

  it('persistenceOf: the persistence aedes runs on', async () => {
    const persistence = partitionedMemoryPersistence(RETAINED_LIMITS);
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
