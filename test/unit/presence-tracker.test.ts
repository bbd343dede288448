// The presence decisions of one process (MemoryPresenceStore behind PresenceTracker), with a fake
// clock and a recording publisher: one event per transition, the grace period, nothing held after.
import type { Client, PublishPacket } from 'aedes';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HandlerIdentity, UserIdentity } from '../../broker/auth/identity.ts';
import { MemoryPresenceStore } from '../../broker/presence/presence-store.ts';
import { PresenceTracker } from '../../broker/presence/presence-tracker.ts';
import { decodePresence, type PresenceEvent } from '../../protocol/index.ts';

const GRACE_MS = 1000;
const client = {} as Client;
const userOf = (userId: string): UserIdentity => ({
  role: 'user',
  userId,
  partitionPrefix: `${userId}/`,
  expiresAt: Number.MAX_SAFE_INTEGER,
});

let store: MemoryPresenceStore;
let tracker: PresenceTracker;
let published: Array<{ topic: string; event: PresenceEvent | undefined; qos: number; retain: boolean }>;

beforeEach(async () => {
  vi.useFakeTimers({ now: 1_700_000_000_000 });
  store = new MemoryPresenceStore();
  tracker = new PresenceTracker({ store, graceMs: GRACE_MS, logger: pino({ level: 'silent' }) });
  published = [];
  await tracker.attach({
    publish: (packet: PublishPacket, done?: (error?: Error) => void) => {
      published.push({
        topic: packet.topic,
        event: decodePresence(packet.payload),
        qos: packet.qos,
        retain: packet.retain,
      });
      done?.();
    },
  });
});
afterEach(() => {
  vi.useRealTimers();
});

const settle = async (): Promise<void> => {
  await vi.advanceTimersByTimeAsync(0);
};

describe('PresenceTracker with the in-process store', () => {
  it('one online at the first device, one offline a grace period after the last', async () => {
    tracker.admitted(client, userOf('ann'));
    tracker.admitted(client, userOf('ann'));
    await settle();
    expect(published).toEqual([
      {
        topic: '$cashew/presence/ann',
        event: { userId: 'ann', online: true, devices: 1, at: 1_700_000_000_000 },
        qos: 1,
        retain: false,
      },
    ]);
    tracker.released(client, userOf('ann'));
    await vi.advanceTimersByTimeAsync(GRACE_MS * 2);
    expect(published).toHaveLength(1);
    tracker.released(client, userOf('ann'));
    await settle();
    const leftAt = Date.now();
    await vi.advanceTimersByTimeAsync(GRACE_MS - 1);
    expect(published).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(published[1]?.event).toEqual({ userId: 'ann', online: false, devices: 0, at: leftAt });
  });

  it('a device back within the grace period: no event at all; nothing held afterwards', async () => {
    tracker.admitted(client, userOf('bo'));
    await settle();
    tracker.released(client, userOf('bo'));
    await vi.advanceTimersByTimeAsync(GRACE_MS / 2);
    tracker.admitted(client, userOf('bo'));
    await vi.advanceTimersByTimeAsync(GRACE_MS * 3);
    expect(published.map((entry) => entry.event?.online)).toEqual([true]);
    tracker.released(client, userOf('bo'));
    await vi.advanceTimersByTimeAsync(GRACE_MS);
    expect(published.map((entry) => entry.event?.online)).toEqual([true, false]);
    expect(store.size).toBe(0);
    expect(tracker.pending).toBe(0);
  });

  it('handlers are not users: no presence for them', async () => {
    tracker.admitted(client, {
      role: 'handler',
      name: 'push',
      commands: new Set(),
      events: new Set(),
      expiresAt: 0,
    });
    await settle();
    expect(published).toEqual([]);
  });

  it('close: grace timers cleared, the store emptied, no event after', async () => {
    tracker.admitted(client, userOf('cy'));
    await settle();
    tracker.released(client, userOf('cy'));
    await settle();
    expect(tracker.pending).toBe(1);
    await tracker.close();
    await vi.advanceTimersByTimeAsync(GRACE_MS * 2);
    expect(tracker.pending).toBe(0);
    expect(store.size).toBe(0);
    expect(published).toHaveLength(1);
  });

  it("one process ('granted-here'): nothing published until a handler granted presence has connected", async () => {
    const quiet = new MemoryPresenceStore();
    const local = new PresenceTracker({
      store: quiet,
      graceMs: GRACE_MS,
      logger: pino({ level: 'silent' }),
      listeners: 'granted-here',
    });
    const heard: PresenceEvent[] = [];
    await local.attach({
      publish: (packet: PublishPacket, done?: (error?: Error) => void) => {
        const event = decodePresence(packet.payload);
        if (event !== undefined) heard.push(event);
        done?.();
      },
    });
    const handler = (presence: boolean): HandlerIdentity => ({
      role: 'handler',
      name: presence ? 'watcher' : 'echo',
      commands: new Set(),
      events: new Set(),
      ...(presence && { presence: true as const }),
      expiresAt: Number.MAX_SAFE_INTEGER,
    });
    local.admitted(client, userOf('di'));
    local.admitted(client, handler(false));
    await settle();
    expect(heard).toEqual([]); // decided (di is online) but nobody can be subscribed
    // unheard, a last disconnect is settled at once: no grace timer, nothing held
    local.admitted(client, userOf('cy'));
    local.released(client, userOf('cy'));
    await settle();
    expect(local.pending).toBe(0);
    expect(quiet.size).toBe(2); // di: a device and announced; cy is gone
    local.admitted(client, handler(true));
    local.released(client, userOf('di'));
    await vi.advanceTimersByTimeAsync(GRACE_MS);
    expect(heard).toEqual([{ userId: 'di', online: false, devices: 0, at: expect.any(Number) as number }]);
    local.admitted(client, userOf('ed'));
    await settle();
    expect(heard.at(-1)).toMatchObject({ userId: 'ed', online: true });
    await local.close();
  });
});
