// Presence on the wire, shared by the broker, the handler runtime and the client SDK (docs/protocol.md):
// the broker publishes `$cashew/presence/<userId>` when a user's first device connects and after the
// last one has gone (plus the grace period); only handlers granted `presence` may subscribe. A handler
// may relay an event to a user as the event `<userId>/presence`, which the SDK's observePresence reads.
// Browser-safe: no Node built-ins.
import { isRecord } from './guards.ts';
import { isValidUserId } from './topics.ts';
import type { Payload } from './envelope.ts';

/** The reserved topics of presence events: `$cashew/presence/<userId>`. */
export const PRESENCE_TOPIC_PREFIX = '$cashew/presence/';
/** What a presence-granted handler subscribes to: every user's presence. */
export const PRESENCE_FILTER = `${PRESENCE_TOPIC_PREFIX}+`;
/** The event name a handler relays presence to a user under: `<userId>/presence`. */
export const PRESENCE_EVENT = 'presence';

/** A user came online (first device) or went offline (last device gone, grace period over). */
export interface PresenceEvent {
  readonly userId: string;
  readonly online: boolean;
  /** The user's devices connected in the whole cluster when the event was decided (0 when offline). */
  readonly devices: number;
  /** When it happened, ms since the epoch: the first connect, or the last device's disconnect. */
  readonly at: number;
}

export function presenceTopic(userId: string): string {
  return PRESENCE_TOPIC_PREFIX + userId;
}

/** Whether a topic is a presence event's. */
export function isPresenceTopic(topic: string): boolean {
  return topic.startsWith(PRESENCE_TOPIC_PREFIX);
}

/** The user a presence topic is about, or undefined for another topic (or a wildcard). */
export function presenceUserOf(topic: string): string | undefined {
  if (!isPresenceTopic(topic)) return undefined;
  const userId = topic.slice(PRESENCE_TOPIC_PREFIX.length);
  return isValidUserId(userId) ? userId : undefined;
}

export function isPresenceEvent(value: unknown): value is PresenceEvent {
  return (
    isRecord(value) &&
    isValidUserId(value.userId) &&
    typeof value.online === 'boolean' &&
    Number.isSafeInteger(value.devices) &&
    (value.devices as number) >= 0 &&
    Number.isSafeInteger(value.at)
  );
}

export function encodePresence(event: PresenceEvent): string {
  const { userId, online, devices, at } = event;
  return JSON.stringify({ userId, online, devices, at });
}

/** The event in a payload, or undefined when the payload is not one. */
export function decodePresence(payload: Payload): PresenceEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isPresenceEvent(value)) return undefined;
  const { userId, online, devices, at } = value;
  return { userId, online, devices, at };
}
