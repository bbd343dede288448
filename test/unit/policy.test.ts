// The pure authorization policy: topic rules for users and handlers, no sockets.
import { describe, expect, it } from 'vitest';
import {
  authorizePublication,
  authorizeSubscription,
  authorizeWill,
  mayReceive,
  authorizeDelivery,
  authorizeOrphanWill,
  NOT_AUTHENTICATED,
} from '../../broker/policy/policy.ts';
import type { HandlerIdentity, UserIdentity } from '../../broker/auth/identity.ts';
import { GRANT_ALL } from '../../protocol/index.ts';

const user: UserIdentity = { role: 'user', userId: '68946', partitionPrefix: '68946/', expiresAt: 0 };
const handler: HandlerIdentity = {
  role: 'handler',
  name: 'apples',
  commands: new Set(['get_apples']),
  events: new Set(['got_apples']),
  expiresAt: 0,
};
const allHandler: HandlerIdentity = { ...handler, name: 'all', commands: GRANT_ALL, events: GRANT_ALL };
const nothingHandler: HandlerIdentity = { ...handler, name: 'none', commands: new Set(), events: new Set() };

describe('user subscriptions', () => {
  it.each(['68946', '68946/#', '68946/+', '68946/contact_list', '68946/a/b/c', '68946/+/reply'])(
    'allows %s',
    (filter) => {
      expect(authorizeSubscription(user, filter).allowed).toBe(true);
    },
  );
  it.each([
    '#',
    '+',
    '+/#',
    '+/contact_list',
    '68946x/#',
    '6894/#',
    '689461',
    '4711/#',
    '/68946/#',
    '$SYS/#',
    '$SYS/broker/clients',
    '$cashew/refused',
    '$handler/apples',
    '$68946/#',
    '',
  ])('refuses %j', (filter) => {
    const decision = authorizeSubscription(user, filter);
    expect(decision.allowed).toBe(false);
    if (!decision.allowed) expect(decision.reason).not.toBe('');
  });
});

describe('user publications', () => {
  it.each(['68946', '68946/get_apples', '68946/a/b'])('allows %s', (topic) => {
    expect(authorizePublication(user, topic).allowed).toBe(true);
    expect(authorizeWill(user, topic).allowed).toBe(true);
  });
  it.each(['4711/get_apples', '68946x/get_apples', '689461', '$SYS/x', '$cashew/refused', '/68946/x', ''])(
    'refuses %j',
    (topic) => {
      expect(authorizePublication(user, topic).allowed).toBe(false);
      expect(authorizeWill(user, topic).allowed).toBe(false);
    },
  );
});

describe('handler subscriptions', () => {
  it('allows +/<command> for a granted command only', () => {
    expect(authorizeSubscription(handler, '+/get_apples').allowed).toBe(true);
    expect(authorizeSubscription(handler, '+/get_pears').allowed).toBe(false);
  });
  it.each([
    '#',
    '+/#',
    '+/+',
    '68946/get_apples',
    '+/get_apples/reply',
    'get_apples',
    '$SYS/#',
    '$share/x/+/get_apples',
  ])('refuses %j', (filter) => {
    expect(authorizeSubscription(handler, filter).allowed).toBe(false);
    expect(authorizeSubscription(allHandler, filter).allowed).toBe(false);
  });
  it('an explicit "*" grants every command, omission grants none', () => {
    expect(authorizeSubscription(allHandler, '+/anything').allowed).toBe(true);
    expect(authorizeSubscription(nothingHandler, '+/get_apples').allowed).toBe(false);
  });
});

describe('handler publications', () => {
  it('allows <userId>/<event> for granted events and <userId>/<command>/reply for served commands', () => {
    expect(authorizePublication(handler, '68946/got_apples').allowed).toBe(true);
    expect(authorizePublication(handler, '4711/got_apples').allowed).toBe(true);
    expect(authorizePublication(handler, '68946/get_apples/reply').allowed).toBe(true);
  });
  it.each([
    '68946/got_pears',
    '68946/get_pears/reply',
    '68946/got_apples/extra',
    '68946/get_apples/reply/x',
    '+/got_apples',
    '$SYS/got_apples',
    '$handler/got_apples',
    '/got_apples',
    'got_apples',
    '68946',
  ])('refuses %j', (topic) => {
    expect(authorizePublication(handler, topic).allowed).toBe(false);
  });
  it('an explicit "*" grants every event and reply, omission grants none', () => {
    expect(authorizePublication(allHandler, '68946/whatever').allowed).toBe(true);
    expect(authorizePublication(allHandler, '68946/whatever/reply').allowed).toBe(true);
    expect(authorizePublication(allHandler, '68946/').allowed).toBe(false);
    expect(authorizePublication(allHandler, '68946//reply').allowed).toBe(false);
    expect(authorizePublication(allHandler, '68946/a b').allowed).toBe(false);
    expect(authorizePublication(nothingHandler, '68946/got_apples').allowed).toBe(false);
    expect(authorizePublication(nothingHandler, '68946/get_apples/reply').allowed).toBe(false);
  });
  it('a will is held to the same rules', () => {
    expect(authorizeWill(handler, '68946/got_apples').allowed).toBe(true);
    expect(authorizeWill(handler, '68946/got_pears').allowed).toBe(false);
  });
});

describe('mayReceive (the per-delivery re-check)', () => {
  it('a user receives only its own partition', () => {
    expect(mayReceive(user, '68946/x')).toBe(true);
    expect(mayReceive(user, '68946')).toBe(true);
    expect(mayReceive(user, '68946x/x')).toBe(false);
    expect(mayReceive(user, '4711/x')).toBe(false);
    expect(mayReceive(user, '$SYS/x')).toBe(false);
  });
  it('a handler receives only <userId>/<command> of its granted commands', () => {
    expect(mayReceive(handler, '68946/get_apples')).toBe(true);
    expect(mayReceive(handler, '68946/get_pears')).toBe(false);
    expect(mayReceive(handler, '68946/get_apples/reply')).toBe(false);
    expect(mayReceive(handler, '$SYS/get_apples')).toBe(false);
    expect(mayReceive(handler, '/get_apples')).toBe(false);
    expect(mayReceive(allHandler, '68946/anything')).toBe(true);
    expect(mayReceive(nothingHandler, '68946/get_apples')).toBe(false);
  });
});

describe('wills of clients that died on another node (no identity, judged by the stored client id)', () => {
  it.each([
    ['68946/phone', '68946/gone'],
    ['68946/phone', '68946'],
    ['68946', '68946/a/b'],
    ['$handler/apples/1', 'anything/at_all'],
  ])('allows the will of %s on %s', (clientId, topic) => {
    expect(authorizeOrphanWill(clientId, topic)).toEqual({ allowed: true });
  });
  it.each([
    ['68946/phone', '4711/gone'],
    ['68946/phone', '689461/gone'],
    ['68946/phone', '$SYS/x'],
    ['', '68946/gone'],
    ['/phone', '/gone'],
    ['+/phone', '+/gone'],
    [undefined, '68946/gone'],
    ['$handlerx/apples', '68946/gone'],
  ])('refuses the will of %j on %s', (clientId, topic) => {
    expect(authorizeOrphanWill(clientId, topic)).toEqual({
      allowed: false,
      reason: 'orphan will outside its partition',
    });
  });
});

describe('authorizeDelivery (aedes forward path)', () => {
  const from = (publisherId: string | undefined, retain = false) => ({ retain, publisherId });

  it('delivers to a user what it may receive, retained or not, whoever published it', () => {
    expect(authorizeDelivery(user, { topic: '68946/x', ...from('68946/a', true) }).allowed).toBe(true);
    expect(authorizeDelivery(user, { topic: '68946/got_apples', ...from('$handler/apples/1') }).allowed).toBe(
      true,
    );
    expect(authorizeDelivery(user, { topic: '68946', ...from(undefined) }).allowed).toBe(true);
  });

  it('refuses (audited) a message outside what the identity may receive', () => {
    for (const [identity, topic] of [
      [user, '4711/x'],
      [handler, '68946/got_apples'],
      [handler, '68946/get_apples/reply'],
    ] as const) {
      const decision = authorizeDelivery(identity, { topic, ...from('4711/a') });
      expect(decision).toEqual({ allowed: false, reason: 'message outside what the identity may receive' });
    }
  });

  it("delivers a user's command to a handler that serves it", () => {
    expect(authorizeDelivery(handler, { topic: '68946/get_apples', ...from('68946/phone') })).toEqual({
      allowed: true,
    });
    expect(authorizeDelivery(handler, { topic: '68946/get_apples', ...from(undefined) }).allowed).toBe(true);
  });

  it("refuses (audited) a handler's publication that shares a command's name: it is not that user's command", () => {
    expect(authorizeDelivery(allHandler, { topic: '68946/get_apples', ...from('$handler/other/1') })).toEqual(
      {
        allowed: false,
        reason: 'a handler publication is not a user command',
      },
    );
  });

  it('withholds (routine, not audited) a retained message from a handler: state is not a command', () => {
    const decision = authorizeDelivery(handler, { topic: '68946/get_apples', ...from('68946/phone', true) });
    expect(decision).toEqual({
      allowed: false,
      reason: 'a retained message is state, not a command',
      routine: true,
    });
  });

  it('never marks a refusal of a user as routine', () => {
    const decision = authorizeDelivery(user, { topic: '4711/x', ...from('4711/a', true) });
    expect(decision.allowed === false && decision.routine).toBeFalsy();
  });
});

describe('NOT_AUTHENTICATED', () => {
  it('is a refusal with a reason', () => {
    expect(NOT_AUTHENTICATED).toEqual({ allowed: false, reason: 'not authenticated' });
  });
});
