// The authorization policy: pure functions over an identity and a topic, no sockets, no aedes.
import { GRANT_ALL, isValidName, isValidUserId, REPLY_LEVEL } from '../../protocol/index.ts';
import type { Grant, HandlerIdentity, Identity } from '../auth/identity.ts';

export type Decision = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

const ALLOWED: Decision = Object.freeze({ allowed: true });
const refuse = (reason: string): Decision => ({ allowed: false, reason });

function granted(grant: Grant, name: string): boolean {
  return grant === GRANT_ALL || grant.has(name);
}

function levelsOf(topic: string): string[] {
  return topic.split('/');
}

/** Users subscribe inside their own partition; handlers to `+/<command>` for the commands they serve. */
export function authorizeSubscription(identity: Identity, filter: string): Decision {
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
  const slash = topic.indexOf('/');
  if (slash <= 0 || topic.charCodeAt(0) === 36 /* $ */ || topic.indexOf('/', slash + 1) !== -1) return false;
  return granted(identity.commands, topic.slice(slash + 1));
}

/** The will is held to the publish rules, checked when it is declared. */
export function authorizeWill(identity: Identity, topic: string): Decision {
  return authorizePublication(identity, topic);
}
