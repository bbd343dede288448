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
});
