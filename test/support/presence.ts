// Presence events as a handler connection receives them on `$cashew/presence/+`: recorded in order,
// awaitable with a timeout, and checkable for silence over a bounded window.
import type { MqttClient } from 'mqtt';
import { decodePresence, isPresenceTopic, type PresenceEvent } from '../../protocol/index.ts';

export interface PresenceRecorder {
  readonly events: PresenceEvent[];
  /** The events about `userId` so far. */
  of(userId: string): PresenceEvent[];
  /** Resolves with the first event (past or future) that matches; rejects after `timeoutMs`. */
  waitFor(match: (event: PresenceEvent) => boolean, timeoutMs?: number): Promise<PresenceEvent>;
}

export function recordPresence(client: MqttClient): PresenceRecorder {
  const events: PresenceEvent[] = [];
  const waiters = new Set<() => void>();
  client.on('message', (topic, payload) => {
    if (!isPresenceTopic(topic)) return;
    const event = decodePresence(payload);
    if (event === undefined) throw new Error(`not a presence event on ${topic}: ${payload.toString()}`);
    events.push(event);
    for (const waiter of [...waiters]) waiter();
  });
  return {
    events,
    of: (userId) => events.filter((event) => event.userId === userId),
    waitFor(match, timeoutMs = 10_000) {
      const seen = events.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching presence event within ${timeoutMs} ms: ${JSON.stringify(events)}`));
        }, timeoutMs);
        const check = (): void => {
          const found = events.find(match);
          if (found === undefined) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        waiters.add(check);
      });
    },
  };
}

/** Waits `ms`: only where the point is that nothing happens in that window (a bounded silence check). */
export function quietFor(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
