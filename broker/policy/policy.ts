// The authorization policy: pure functions over an identity and a topic, no sockets, no aedes.
import {
  GRANT_ALL,
  HANDLER_CLIENT_ID_PREFIX,
  isValidName,
  isPresenceTopic,
  isValidUserId,
  PRESENCE_FILTER,
  presenceUserOf,
  REPLY_LEVEL,
  TOKEN_REFRESH_REPLY_TOPIC,
  TOKEN_REFRESH_TOPIC,
} from '../../protocol/index.ts';
import type { Grant, HandlerIdentity, Identity } from '../auth/identity.ts';

/**
 * A policy answer. A refusal is audited unless `routine`: a message withheld by design, not an
 * attempt by anybody (a retained command replayed to a handler).
 */
export type Decision =
  { readonly allowed: true } | { readonly allowed: false; readonly reason: string; readonly routine?: true };

const ALLOWED: Decision = Object.freeze({ allowed: true });
const refuse = (reason: string): Decision => ({ allowed: false, reason });

/** A client whose token was not verified (or whose connection has ended) may do nothing. */
export const NOT_AUTHENTICATED: Decision = Object.freeze({ allowed: false, reason: 'not authenticated' });

function granted(grant: Grant, name: string): boolean {
  return grant === GRANT_ALL || grant.has(name);
}

function levelsOf(topic: string): string[] {
  return topic.split('/');
}

/**
 * Presence (`$cashew/presence/<userId>`) is for handlers granted it: every user's (`$cashew/presence/+`)
 * or one user's. No user sees another's presence unless a handler relays it.
 */
function authorizePresenceSubscription(identity: Identity, filter: string): Decision {
  if (identity.role === 'user') return refuse('presence is for handlers granted it');
  if (identity.presence !== true) return refuse('presence is not granted');
  if (filter === PRESENCE_FILTER || presenceUserOf(filter) !== undefined) return ALLOWED;
  return refuse('presence filters are $cashew/presence/+ or $cashew/presence/<userId>');
}

/** Users subscribe inside their own partition; handlers to `+/<command>` for the commands they serve. */
export function authorizeSubscription(identity: Identity, filter: string): Decision {
  if (isPresenceTopic(filter)) return authorizePresenceSubscription(identity, filter);
  if (filter.startsWith('$')) return refuse('$-topics are reserved');
  if (identity.role === 'user') {
    const first = filter === identity.userId || filter.startsWith(identity.partitionPrefix);
    return first ? ALLOWED : refuse('outside the user partition');
  }
  const levels = levelsOf(filter);
  if (levels.length !== 2 || levels[0] !== '+') return refuse('handlers subscribe to +/<command> only');
  const command = levels[1] ?? '';
  if (command === '+' || command === '#') return refuse('a command level cannot be a wildcard');
  return granted(identity.commands, command) ? ALLOWED : refuse(`command ${command} is not granted`);
}

function authorizeHandlerPublication(identity: HandlerIdentity, topic: string): Decision {
  const levels = levelsOf(topic);
  if (!isValidUserId(levels[0])) return refuse('the first level must be a user id');
  if (!isValidName(levels[1])) return refuse('the second level must be an event or command name');
  if (levels.length === 2) {
    const event = levels[1] ?? '';
    return granted(identity.events, event) ? ALLOWED : refuse(`event ${event} is not granted`);
  }
  if (levels.length === 3 && levels[2] === REPLY_LEVEL) {
    const command = levels[1] ?? '';
    return granted(identity.commands, command) ? ALLOWED : refuse(`replies to ${command} are not granted`);
  }
  return refuse('handlers publish <userId>/<event> or <userId>/<command>/reply');
}

/** Users publish inside their own partition; handlers publish the events (and replies) they are granted. */
export function authorizePublication(identity: Identity, topic: string): Decision {
  if (topic.startsWith('$')) return refuse('$-topics are reserved');
  if (identity.role === 'user') {
    const inside = topic === identity.userId || topic.startsWith(identity.partitionPrefix);
    return inside ? ALLOWED : refuse('outside the user partition');
  }
  return authorizeHandlerPublication(identity, topic);
}

/**
 * Whether a message on `topic` may be delivered to this identity: the same rule as SUBSCRIBE, applied
 * to each message (aedes keeps denied filters of a persistent session and would deliver for them).
 * On the hot path: one `startsWith` for users.
 */
export function mayReceive(identity: Identity, topic: string): boolean {
  if (identity.role === 'user')
    return topic.startsWith(identity.partitionPrefix) || topic === identity.userId;
  if (topic.charCodeAt(0) === 36 /* $ */) return identity.presence === true && isPresenceTopic(topic);
  const slash = topic.indexOf('/');
  if (slash <= 0 || topic.indexOf('/', slash + 1) !== -1) return false;
  return granted(identity.commands, topic.slice(slash + 1));
}

/** The will is held to the publish rules, checked when it is declared. */
export function authorizeWill(identity: Identity, topic: string): Decision {
  return authorizePublication(identity, topic);
}

/** Whether a client id is a handler's (`$handler/<name>/…`, bound to a handler identity at CONNECT). */
function isHandlerClientId(clientId: string | undefined): boolean {
  return clientId !== undefined && clientId.startsWith(HANDLER_CLIENT_ID_PREFIX);
}

/**
 * The will of a client that died on another node is published with no live client, so no identity:
 * it is judged by the client id it was stored with, which CONNECT bound to the identity. A user's
 * will stays inside the partition its client id names; a handler's was checked when it was declared
 * (and stored only then).
 */
export function authorizeOrphanWill(clientId: string | undefined, topic: string): Decision {
  if (isHandlerClientId(clientId)) return ALLOWED;
  const userId = ownerOfClientId(clientId ?? '');
  const inside = userId !== undefined && (topic === userId || topic.startsWith(`${userId}/`));
  return inside ? ALLOWED : refuse('orphan will outside its partition');
}

/**
 * The user a (user) client id belongs to — `<userId>` or `<userId>/<device>`, as CONNECT bound it —
 * or undefined for a handler's client id: whose persistent session it is.
 */
export function ownerOfClientId(clientId: string): string | undefined {
  if (isHandlerClientId(clientId)) return undefined;
  const userId = clientId.split('/')[0];
  return isValidUserId(userId) ? userId : undefined;
}

/** What the policy needs to know about a message about to be delivered to a subscriber. */
export interface Delivery {
  readonly topic: string;
  readonly retain: boolean;
  /** The client id of the publisher; undefined for the broker's own messages. */
  readonly publisherId: string | undefined;
}

const OUTSIDE_RECEIVABLE = refuse('message outside what the identity may receive');
const RETAINED_COMMAND: Decision = Object.freeze({
  allowed: false,
  reason: 'a retained message is state, not a command',
  routine: true,
});
const HANDLER_PUBLICATION = refuse('a handler publication is not a user command');

/**
 * Whether a message may be delivered to this identity (aedes' forward path, also for messages queued
 * in a persistent session). Beyond `mayReceive`, for handlers: a command's sender is its topic's first
 * level, verified for users only, so a handler's event that shares a command's name is not that
 * user's command; and a retained message is state, not a command: replayed to every handler (and
 * every new pool member) that subscribes, it would be served again and again.
 */
export function authorizeDelivery(identity: Identity, delivery: Delivery): Decision {
  if (delivery.topic === TOKEN_REFRESH_REPLY_TOPIC)
    return delivery.publisherId === undefined ? ALLOWED : OUTSIDE_RECEIVABLE;
  if (!mayReceive(identity, delivery.topic)) return OUTSIDE_RECEIVABLE;
  if (identity.role === 'user' || isPresenceTopic(delivery.topic)) return ALLOWED;
  if (delivery.retain) return RETAINED_COMMAND;
  return isHandlerClientId(delivery.publisherId) ? HANDLER_PUBLICATION : ALLOWED;
}

/**
 * A PUBLISH on the refresh topic is a token refresh of the connection that sent it: handled by the
 * broker, never delivered, never retained, never stored. Any other `$cashew/…` publish is refused by
 * `authorizePublication`; nobody may subscribe to any `$` filter, so no one else can read a token.
 */
export function isTokenRefresh(topic: string): boolean {
  return topic === TOKEN_REFRESH_TOPIC;
}

/** A refresh answer: allowed, or refused with the code that says why. */
export type RefreshDecision =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      readonly code: 'ERR_REFRESH_IDENTITY' | 'ERR_REFRESH_GRANTS';
      readonly reason: string;
    };

const REFRESH_ALLOWED: RefreshDecision = Object.freeze({ allowed: true });

/** Whether `inner` grants nothing `outer` does not. */
function within(inner: Grant, outer: Grant): boolean {
  if (outer === GRANT_ALL) return true;
  if (inner === GRANT_ALL) return false;
  for (const name of inner) if (!outer.has(name)) return false;
  return true;
}

/**
 * A connection's token may be replaced by one for the same identity: the same user id, or the same
 * handler name with grants that may shrink, never grow (more needs a new CONNECT, checked from scratch).
 */
export function authorizeTokenRefresh(current: Identity, next: Identity): RefreshDecision {
  if (current.role === 'user')
    return next.role === 'user' && next.userId === current.userId
      ? REFRESH_ALLOWED
      : { allowed: false, code: 'ERR_REFRESH_IDENTITY', reason: 'the token names another identity' };
  if (next.role !== 'handler' || next.name !== current.name)
    return { allowed: false, code: 'ERR_REFRESH_IDENTITY', reason: 'the token names another identity' };
  if (!within(next.commands, current.commands))
    return {
      allowed: false,
      code: 'ERR_REFRESH_GRANTS',
      reason: 'the token grants commands the connection had not',
    };
  if (!within(next.events, current.events))
    return {
      allowed: false,
      code: 'ERR_REFRESH_GRANTS',
      reason: 'the token grants events the connection had not',
    };
  return REFRESH_ALLOWED;
}
