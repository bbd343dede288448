// Pins the empty-session path of broker/aedes/persistence/session-queues.ts: aedes 1.2 asks for `outgoingStream` on every CONNECT
// (lib/handlers/connect.js `emptyQueue`), and a session with nothing queued gets an ended stream without
// the store being asked; what was queued while a persistent session was away is still delivered, and
// the count returns to zero once acknowledged.
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { partitionedMemoryPersistence } from '../../../broker/aedes/persistence/partitioned-memory.ts';
import { nextEvent, useBareAedes } from '../../support/bare-aedes.ts';
import { resolveLimits } from '../../../broker/limits/limits.ts';

const RETAINED_LIMITS = resolveLimits({}).retained;

const { start, connect, track } = useBareAedes();

async function drain(stream: NodeJS.ReadableStream): Promise<unknown[]> {
  const items: unknown[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

describe('session-queues.ts, empty sessions (aedes 1.2 lib/handlers/connect.js emptyQueue, aedes-persistence 11)', () => {
  it('answers an ended stream for a client with nothing queued, and the store’s queue otherwise', async () => {
    const persistence = partitionedMemoryPersistence(RETAINED_LIMITS);
    expect(await drain(persistence.outgoingStream({ id: 'a' }))).toEqual([]);
    const packet = {
      cmd: 'publish',
      topic: 'a/t',
      payload: Buffer.from('x'),
      qos: 1,
      brokerId: 'b',
      brokerCounter: 1,
    };
    await persistence.outgoingEnqueueCombi([{ clientId: 'a' }, { clientId: 'b' }], packet);
    expect(persistence.queues.queuedFor('a').messages).toBe(1);
    const queued = (await drain(persistence.outgoingStream({ id: 'a' }))) as { topic: string }[];
    expect(queued.map((item) => item.topic)).toEqual(['a/t']);
    expect(await persistence.outgoingClearMessageId({ id: 'a' }, { messageId: 99 })).toBeUndefined();
    expect(persistence.queues.queuedFor('a').messages).toBe(1);
    await persistence.outgoingUpdate({ id: 'a' }, { ...packet, messageId: 7 });
    expect(await persistence.outgoingClearMessageId({ id: 'a' }, { messageId: 7 })).toBeDefined();
    expect(persistence.queues.queuedFor('a').messages).toBe(0);
    expect(persistence.queues.stats().sessions).toBe(1);
    expect(await drain(persistence.outgoingStream({ id: 'a' }))).toEqual([]);
  });

  it('aedes asks on every CONNECT, streams only a session with something queued, and delivers it', async () => {
    const persistence = partitionedMemoryPersistence(RETAINED_LIMITS);
    const asked: string[] = [];
    const streamed: string[] = [];
    const stream = persistence.outgoingStream.bind(persistence);
    const queued = persistence.outgoingQueued?.bind(persistence);
    persistence.outgoingStream = (client) => {
      streamed.push(client.id);
      return stream(client);
    };
    persistence.outgoingQueued = (client) => {
      asked.push(client.id);
      return queued?.(client) ?? true;
    };
    const bare = await start({ persistence });
    const device = await connect(bare.tcpUrl, { clientId: 'dev', clean: false });
    await device.subscribeAsync('u/#', { qos: 1 });
    await device.endAsync();
    const publisher = await connect(bare.tcpUrl, { clientId: 'pub' });
    await publisher.publishAsync('u/1', 'missed', { qos: 1 });
    expect(persistence.queues.queuedFor('dev').messages).toBe(1);
    const back = track(
      mqtt.connect(bare.tcpUrl, { clientId: 'dev', clean: false, protocolVersion: 4, reconnectPeriod: 0 }),
    );
    const message = nextEvent<[string, Buffer]>(back, 'message');
    const [topic, payload] = await message;
    expect([topic, payload.toString()]).toEqual(['u/1', 'missed']);
    // patches/aedes+1.2.0.patch: emptyQueue asks outgoingQueued first, and streams only when true.
    expect(asked).toEqual(['dev', 'pub', 'dev']);
    expect(streamed).toEqual(['dev']);
    await expect.poll(() => persistence.queues.queuedFor('dev').messages).toBe(0);
  });
});
