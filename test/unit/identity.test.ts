// Identity from claims and the binding of client ids to identities, no sockets.
import { describe, expect, it } from 'vitest';
import {
  clientIdBelongsTo,
  clientIdFor,
  identityFromClaims,
  type Identity,
} from '../../broker/auth/identity.ts';
import { GRANT_ALL, isValidUserId, parseUserTopic, userPartitionOf } from '../../protocol/index.ts';

const exp = 2_000_000_000;

function codeOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return (error as { code?: unknown }).code;
  }
  return undefined;
}

describe('identityFromClaims', () => {
  it('makes a user from the sub claim, a string or a safe integer', () => {
    expect(identityFromClaims({ sub: '68946', exp }, 'sub', 30)).toEqual({
      role: 'user',
      userId: '68946',
      partitionPrefix: '68946/',
      expiresAt: (exp + 30) * 1000,
    });
    expect(identityFromClaims({ sub: 68946, exp }, 'sub', 0)).toMatchObject({ userId: '68946' });
  });

  it('reads the configured claim (user_id)', () => {
    expect(identityFromClaims({ sub: 'auth0|x', user_id: '42', exp }, 'user_id', 0)).toMatchObject({
      role: 'user',
      userId: '42',
    });
  });

  it.each([
    ['a/b'],
    ['a+b'],
    ['a#'],
    ['$a'],
    ['a\u0000b'],
    [''],
    [1.5],
    [null],
    [undefined],
    [{}],
    ['x'.repeat(129)],
  ])('refuses the user id %j with ERR_IDENTITY_INVALID', (sub) => {
    expect(codeOf(() => identityFromClaims({ sub, exp }, 'sub', 0))).toBe('ERR_IDENTITY_INVALID');
  });

  it('makes a handler from the handler claim, with "*" as an explicit grant and nothing by omission', () => {
    const handler = identityFromClaims(
      { sub: 'x', handler: { name: 'apples', commands: ['get_apples'], events: ['*'] }, exp },
      'sub',
      0,
    );
    expect(handler).toMatchObject({ role: 'handler', name: 'apples', events: GRANT_ALL });
    expect(handler.role === 'handler' && handler.commands !== GRANT_ALL && [...handler.commands]).toEqual([
      'get_apples',
    ]);
    const bare = identityFromClaims({ handler: { name: 'bare' }, exp }, 'sub', 0);
    expect(bare.role === 'handler' && bare.commands !== GRANT_ALL && bare.commands.size).toBe(0);
    expect(bare.role === 'handler' && bare.events !== GRANT_ALL && bare.events.size).toBe(0);
  });

  it.each([
    [{ name: '' }],
    [{ name: 'a/b' }],
    [{ name: '$x' }],
    [{ commands: ['x'] }],
    ['apples'],
    [['apples']],
    [{ name: 'apples', commands: 'get_apples' }],
    [{ name: 'apples', commands: ['+'] }],
    [{ name: 'apples', events: ['a/b'] }],
    [{ name: 'apples', events: ['#'] }],
  ])('refuses the handler claim %j', (handler) => {
    expect(codeOf(() => identityFromClaims({ handler, exp }, 'sub', 0))).toBe('ERR_IDENTITY_INVALID');
  });

  it('with handler trust, makes only the role of the key source that verified the token', () => {
    const handler = { name: 'apples', commands: ['*'], events: ['*'] };
    expect(codeOf(() => identityFromClaims({ sub: '68946', handler, exp }, 'sub', 0, 'user'))).toBe(
      'ERR_IDENTITY_INVALID',
    );
    expect(codeOf(() => identityFromClaims({ sub: '68946', exp }, 'sub', 0, 'handler'))).toBe(
      'ERR_IDENTITY_INVALID',
    );
    expect(identityFromClaims({ sub: '68946', exp }, 'sub', 0, 'user')).toMatchObject({ role: 'user' });
    expect(identityFromClaims({ handler, exp }, 'sub', 0, 'handler')).toMatchObject({ role: 'handler' });
  });
});

describe('client-id binding', () => {
  const user: Identity = identityFromClaims({ sub: '68946', exp }, 'sub', 0);
  const handler: Identity = identityFromClaims({ handler: { name: 'apples' }, exp }, 'sub', 0);

  it.each(['68946', '68946/phone', '68946/a/b'])('user 68946 may use %s', (id) => {
    expect(clientIdBelongsTo(user, id)).toBe(true);
  });
  it.each(['4711', '689461', '68946x/phone', '68946-phone', 'x68946', '', '$handler/apples', 'aedes_123'])(
    'user 68946 may not use %j',
    (id) => {
      expect(clientIdBelongsTo(user, id)).toBe(false);
    },
  );
  it.each(['$handler/apples', '$handler/apples/1'])('handler apples may use %s', (id) => {
    expect(clientIdBelongsTo(handler, id)).toBe(true);
  });
  it.each(['apples', '$handler/applesX', '$handler/pears', '$handler', '68946'])(
    'handler apples may not use %j',
    (id) => {
      expect(clientIdBelongsTo(handler, id)).toBe(false);
    },
  );
  it('clientIdFor builds ids that belong to the identity', () => {
    expect(clientIdFor(user)).toBe('68946');
    expect(clientIdFor(user, 'web')).toBe('68946/web');
    expect(clientIdFor(handler, '2')).toBe('$handler/apples/2');
    expect(clientIdBelongsTo(handler, clientIdFor(handler, '2'))).toBe(true);
  });
});

describe('topic grammar', () => {
  it('validates user ids and splits user topics', () => {
    expect(isValidUserId('68946')).toBe(true);
    expect(isValidUserId('auth0|abc')).toBe(true);
    expect(isValidUserId('a/b')).toBe(false);
    expect(userPartitionOf('68946/get_apples')).toBe('68946');
    expect(userPartitionOf('68946')).toBe('68946');
    expect(parseUserTopic('68946/get_apples')).toEqual({ userId: '68946', name: 'get_apples' });
    expect(parseUserTopic('68946/get_apples/reply')).toBeUndefined();
    expect(parseUserTopic('/get_apples')).toBeUndefined();
    expect(parseUserTopic('$SYS/x')).toBeUndefined();
  });
});
