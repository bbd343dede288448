// The partition-indexed retained store keeps aedes-persistence's semantics (store, replace, delete, match)
// and counts each partition's retained messages and bytes (the memory mode's RetainedQuota).
import { describe, expect, it } from 'vitest';
import {
  PartitionedRetainedStore,
  topicMatches,
  type RetainedPacket,
} from '../../broker/aedes/persistence/retained-store.ts';
import { resolveLimits } from '../../broker/limits/limits.ts';
import { retainedBytesOf } from '../../broker/limits/retained-quota.ts';

const RETAINED_LIMITS = resolveLimits({}).retained;

function retained(topic: string, payload: string): RetainedPacket {
  return { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 0, retain: true };
}

function topicsOf(packets: Iterable<RetainedPacket>): string[] {
  return [...packets].map((packet) => packet.topic);
}

describe('topicMatches (qlobber semantics, as aedes-persistence)', () => {
  it.each([
    ['a/b', 'a/b', true],
    ['a/+', 'a/b', true],
    ['a/+', 'a', false],
    ['a/+', 'a/b/c', false],
    ['a/+/c', 'a//c', true],
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['#', 'x/y', true],
    ['+/state', 'u1/state', true],
    ['+/state', 'u1/other', false],
    ['a/b', 'a/b/c', false],
  ])('%s ~ %s → %s', (filter, topic, expected) => {
    expect(topicMatches(filter.split('/'), topic)).toBe(expected);
  });
});

describe('PartitionedRetainedStore', () => {
  it('replaces the retained message of a topic and deletes it on an empty payload', () => {
    const store = new PartitionedRetainedStore(RETAINED_LIMITS);
    store.store(retained('u1/state', 'v1'));
    store.store(retained('u1/state', 'v2'));
    expect(store.size).toBe(1);
    expect([...store.match('u1/state')].map((packet) => String(packet.payload))).toEqual(['v2']);
    store.store(retained('u1/state', ''));
    expect(store.size).toBe(0);
    expect(topicsOf(store.match('u1/#'))).toEqual([]);
  });

  it('matches wildcards inside a partition and never returns another partition for a literal first level', () => {
    const store = new PartitionedRetainedStore(RETAINED_LIMITS);
    for (const topic of ['u1/x/y', 'u1/x/z', 'u1/w/y', 'u2/x/y', 'u10/x/y'])
      store.store(retained(topic, 'p'));
    expect(topicsOf(store.match('u1/+/y'))).toEqual(['u1/x/y', 'u1/w/y']);
    expect(topicsOf(store.match('u1/x/#'))).toEqual(['u1/x/y', 'u1/x/z']);
    expect(topicsOf(store.match('u1/#'))).toEqual(['u1/x/y', 'u1/x/z', 'u1/w/y']);
  });

  it('scans every partition for a wildcard first level', () => {
    const store = new PartitionedRetainedStore(RETAINED_LIMITS);
    for (const topic of ['u1/state', 'u2/state', 'u2/other']) store.store(retained(topic, 'p'));
    expect(topicsOf(store.match('+/state'))).toEqual(['u1/state', 'u2/state']);
    expect(topicsOf(store.matchAll(['u2/other', '#']))).toEqual([
      'u2/other',
      'u1/state',
      'u2/state',
      'u2/other',
    ]);
  });

  it('keeps a copy, so later changes to the packet object do not alter what is stored', () => {
    const store = new PartitionedRetainedStore(RETAINED_LIMITS);
    const packet = { ...retained('u1/a', 'v1') };
    store.store(packet);
    (packet as { topic: string }).topic = 'u9/a';
    expect(topicsOf(store.match('u1/a'))).toEqual(['u1/a']);
  });
});

describe('PartitionedRetainedStore as the memory RetainedQuota', () => {
  const limits = { maxPerPartition: 2, maxBytesPerPartition: 40 };
  const room = (topic: string, payload: string) => ({ topic, bytes: retainedBytesOf(topic, payload) });

  it('reserves a new topic until the partition holds the count limit; replacing and other partitions pass', async () => {
    const store = new PartitionedRetainedStore(limits);
    expect(await store.reserve(room('u/a', '1'))).toBeUndefined();
    expect(await store.reserve(room('u/b', '2'))).toBeUndefined();
    expect(await store.reserve(room('u/c', '3'))).toMatchObject({ code: 'ERR_RETAINED_LIMIT' });
    expect(await store.reserve(room('u/a', 'again'))).toBeUndefined();
    expect(await store.reserve(room('v/c', '3'))).toBeUndefined();
    expect(store.usage('u')).toEqual({ count: 2, bytes: 3 + 5 + 3 + 1 });
  });

  it('counts what the store holds: a stored message takes its room, a deletion (or a release) frees it', async () => {
    const store = new PartitionedRetainedStore(limits);
    store.store(retained('u/a', '1'));
    store.store(retained('u/b', '2'));
    expect(await store.reserve(room('u/c', '3'))).toMatchObject({ code: 'ERR_RETAINED_LIMIT' });
    store.store(retained('u/a', ''));
    expect(await store.reserve(room('u/c', '3'))).toBeUndefined();
    await store.release('u/b');
    expect(store.usage('u')).toEqual({ count: 1, bytes: 4 });
    await store.release('u/c');
    expect(store.usage('u')).toEqual({ count: 0, bytes: 0 });
  });

  it('refuses a message, a replacement included, that would take the partition over its bytes', async () => {
    const store = new PartitionedRetainedStore(limits);
    expect(await store.reserve(room('u/a', 'x'.repeat(30)))).toBeUndefined();
    expect((await store.reserve(room('u/b', 'y'.repeat(10))))?.reason).toMatch(
      /MAX_RETAINED_BYTES_PER_PARTITION 40/,
    );
    expect(await store.reserve(room('u/a', 'x'.repeat(36)))).toBeUndefined();
    expect(await store.reserve(room('u/a', 'x'.repeat(38)))).toMatchObject({ code: 'ERR_RETAINED_LIMIT' });
    expect(store.usage('u')).toEqual({ count: 1, bytes: 39 });
  });
});
