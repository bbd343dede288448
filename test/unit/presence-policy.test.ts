// Presence in the pure policy and on the wire: only handlers granted `presence` subscribe to
// `$cashew/presence/…` and receive it; no user ever does; nobody publishes there.
import { describe, expect, it } from 'vitest';
import { identityFromClaims, type HandlerIdentity, type UserIdentity } from '../../broker/auth/identity.ts';
import {
  authorizeDelivery,
  authorizePublication,
  authorizeSubscription,
  mayReceive,
} from '../../broker/policy/policy.ts';
import { decodePresence, encodePresence, GRANT_ALL, presenceTopic } from '../../protocol/index.ts';

const user: UserIdentity = { role: 'user', userId: '68946', partitionPrefix: '68946/', expiresAt: 0 };
const plain: HandlerIdentity = {
  role: 'handler',
  name: 'push',
  commands: GRANT_ALL,
  events: GRANT_ALL,
  expiresAt: 0,
};
const granted: HandlerIdentity = { ...plain, presence: true };

describe('the presence grant in the handler claim', () => {
  const exp = Math.floor(Date.now() / 1000) + 60;
  it('is granted by "presence": true only', () => {
    expect(identityFromClaims({ handler: { name: 'push', presence: true }, exp }, 'sub', 0)).toMatchObject({
      presence: true,
    });
    for (const presence of [undefined, false]) {
      const identity = identityFromClaims({ handler: { name: 'push', presence }, exp }, 'sub', 0);
      expect(identity.role === 'handler' && identity.presence).toBeFalsy();
    }
  });
  it.each(['yes', 1, ['*'], {}])('refuses "presence": %j', (presence) => {
    expect(() => identityFromClaims({ handler: { name: 'push', presence }, exp }, 'sub', 0)).toThrow(
      expect.objectContaining({ code: 'ERR_IDENTITY_INVALID' }),
    );
  });
});

describe('presence subscriptions', () => {
  it.each(['$cashew/presence/+', '$cashew/presence/68946'])('a granted handler may subscribe to %s', (f) => {
    expect(authorizeSubscription(granted, f).allowed).toBe(true);
  });
  it.each(['$cashew/presence/#', '$cashew/presence/+/x', '$cashew/presence/', '$cashew/#', '$cashew/+/+'])(
    'a granted handler may not subscribe to %s',
    (filter) => {
      expect(authorizeSubscription(granted, filter).allowed).toBe(false);
    },
  );
  it.each(['$cashew/presence/+', '$cashew/presence/68946'])(
    'a handler without the grant (even with "*" commands and events) may not subscribe to %s',
    (filter) => {
      expect(authorizeSubscription(plain, filter)).toMatchObject({
        allowed: false,
        reason: 'presence is not granted',
      });
    },
  );
  it.each(['$cashew/presence/+', '$cashew/presence/68946', '$cashew/presence/4711', '+/presence'])(
    'a user may not subscribe to %s',
    (filter) => {
      expect(authorizeSubscription(user, filter).allowed).toBe(false);
    },
  );
});

describe('presence deliveries and publications', () => {
  const topic = presenceTopic('68946');
  it('delivers presence to a granted handler only, retained or not, bypassing the command rules', () => {
    expect(mayReceive(granted, topic)).toBe(true);
    expect(authorizeDelivery(granted, { topic, retain: false, publisherId: undefined }).allowed).toBe(true);
    expect(mayReceive(plain, topic)).toBe(false);
    expect(mayReceive(user, topic)).toBe(false);
    expect(mayReceive(granted, '$SYS/x/new/clients')).toBe(false);
  });
  it('lets nobody publish a presence event', () => {
    for (const identity of [user, plain, granted])
      expect(authorizePublication(identity, topic).allowed).toBe(false);
  });
});

describe('the presence event on the wire', () => {
  it('round-trips { userId, online, devices, at } and refuses anything else', () => {
    const event = { userId: '68946', online: true, devices: 2, at: 1_700_000_000_000 };
    expect(decodePresence(Buffer.from(encodePresence(event)))).toEqual(event);
    for (const bad of [
      '',
      'null',
      '{}',
      '{"userId":"a/b","online":true,"devices":1,"at":1}',
      '{"userId":"a","online":"yes","devices":1,"at":1}',
      '{"userId":"a","online":true,"devices":-1,"at":1}',
    ])
      expect(decodePresence(bad)).toBeUndefined();
  });
});
