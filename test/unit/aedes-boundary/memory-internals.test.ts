// Pins the aedes internals read by broker/aedes/persistence/memory-internals.ts against the installed
// aedes-persistence and the way aedes calls it.
import { describe, expect, it } from 'vitest';
import { partitionedMemoryPersistence } from '../../../broker/aedes/persistence/partitioned-memory.ts';
import { nextEvent, useBareAedes } from '../../support/bare-aedes.ts';
import { resolveLimits } from '../../../broker/limits/limits.ts';

const RETAINED_LIMITS = resolveLimits({}).retained;

const { start, connect } = useBareAedes();

describe('memory-internals.ts (aedes-persistence 11; aedes 1.2 lib/handlers/publish.js, subscribe.js)', () => {
  it('aedes stores retained messages without a callback and replays them through createRetainedStreamCombi', async () => {
    const persistence = partitionedMemoryPersistence(RETAINED_LIMITS);
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

  it('aedes queues QoS 1 messages for a persistent session through the outgoing methods session-queues.ts replaces', async () => {
    const persistence = partitionedMemoryPersistence(RETAINED_LIMITS, { maxMessages: 10, maxBytes: 1 << 20 });
    const calls = new Set<string>();
    for (const name of [
      'outgoingEnqueueCombi',
      'outgoingUpdate',
      'outgoingClearMessageId',
      'outgoingStream',
    ] as const) {
      const original = persistence[name].bind(persistence) as (...args: unknown[]) => unknown;
      Object.assign(persistence, {
        [name]: (...args: unknown[]) => {
          calls.add(name);
          return original(...args);
        },
      });
    }
    const bare = await start({ persistence });
    const subscriber = await connect(bare.tcpUrl, { clientId: 'qs', clean: false });
    await subscriber.subscribeAsync('q/1', { qos: 1 });
    await subscriber.endAsync();
    const publisher = await connect(bare.tcpUrl, { clientId: 'qp' });
    await publisher.publishAsync('q/1', 'queued', { qos: 1 });
    expect(persistence.queues.queuedFor('qs')).toEqual({
      messages: 1,
      bytes: 'q/1'.length + 'queued'.length,
    });
    const again = await connect(bare.tcpUrl, { clientId: 'qs', clean: false });
    const [topic, payload] = await nextEvent<[string, Buffer]>(again, 'message');
    expect([topic, payload.toString()]).toEqual(['q/1', 'queued']);
    await expect.poll(() => persistence.queues.queuedFor('qs').messages).toBe(0);
    expect([...calls].sort()).toEqual([
      'outgoingClearMessageId',
      'outgoingEnqueueCombi',
      'outgoingStream',
      'outgoingUpdate',
    ]);
    // The store forgets a session whose queue emptied (aedes-persistence kept an array per id for ever).
    expect(persistence.queues.stats().sessions).toBe(0);
  });
});
