// Presence in the SDK. A user never sees another user's presence from the broker: presence events
// (`$cashew/presence/…`) go only to handlers granted them. What a user's app can observe is what a
// handler decided to tell it — the app's contacts coming online, say — relayed as the event
// `<userId>/presence` with the same `{ userId, online, devices, at }` (handlers/presence.ts `relay`).
// observePresence is `observe('presence')` with each payload checked to be a presence event.
import { isPresenceEvent, PRESENCE_EVENT, type PresenceEvent } from '../protocol/index.ts';
import type { SdkLogger } from './logger.ts';

/** What an event carries besides its data (client.ts' EventMeta). */
export interface PresenceMeta {
  readonly topic: string;
  readonly payload: Uint8Array;
}

export type PresenceListener = (event: PresenceEvent, meta: PresenceMeta) => void;

/** What observePresence needs of a client: `observe` (client.ts' CashewClient). */
export interface Observable {
  observe<T>(event: string, fn: (data: T, meta: PresenceMeta) => void): Promise<() => Promise<void>>;
}

/**
 * Calls `listener` with every presence event relayed to this user; a payload that is not one is
 * dropped (logged at debug). Resolves once subscribed; the function returned stops observing.
 */
export function observePresence(
  client: Observable,
  listener: PresenceListener,
  logger?: SdkLogger,
): Promise<() => Promise<void>> {
  return client.observe<unknown>(PRESENCE_EVENT, (data, meta) => {
    if (isPresenceEvent(data)) listener(data, meta);
    else logger?.debug({ topic: meta.topic }, 'a presence event that is not one ignored');
  });
}
