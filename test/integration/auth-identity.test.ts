// Who may connect with which client id: ids bound to identities (no session takeover of another user),
// user ids that could address another partition refused at CONNECT, the user claim configurable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditOf, startTestBroker, type TestBroker } from '../support/broker.ts';
import {
  closeAll,
  closed,
  connectClient,
  connected,
  recordMessages,
  refusalCode,
  subscribeRaw,
  TRANSPORTS,
} from '../support/clients.ts';
import { handlerToken, userToken } from '../support/tokens.ts';

let broker: TestBroker;
let userIdClaimBroker: TestBroker;
beforeAll(async () => {
  [broker, userIdClaimBroker] = await Promise.all([
    startTestBroker(),
    startTestBroker({ JWT_USER_CLAIM: 'user_id' }),
  ]);
});
afterAll(async () => {
  await Promise.all([broker.close(), userIdClaimBroker.close()]);
});

describe.each(TRANSPORTS)('over %s', (transport) => {
  it.each(['4711', `4711/${transport}`, '689461', '$handler/apples'])(
    "refuses user 68946's token with client id %s: CONNACK 2, ERR_CLIENT_ID_MISMATCH",
    async (clientId) => {
      const before = broker.logLines.length; // the same client id is tried over both transports
      const client = connectClient(broker, transport, clientId, userToken('68946'));
      expect(await refusalCode(client)).toBe(2);
      const audit = await broker.waitForLog(
        (line) =>
          broker.logLines.indexOf(line) >= before &&
          auditOf(clientId, 'connect')(line) &&
          line.code === 'ERR_CLIENT_ID_MISMATCH',
      );
      expect(audit).toMatchObject({ identity: 'user:68946', returnCode: 2 });
      await closeAll(client);
    },
  );

  it("cannot take over another user's session; the victim stays connected", async () => {
    const victimId = `4711/victim-${transport}`;
    const victim = await connected(connectClient(broker, transport, victimId, userToken('4711')));
    expect(await subscribeRaw(victim, ['4711/#'])).toEqual([1]);
    const inbox = recordMessages(victim);
    const attacker = connectClient(broker, transport, victimId, userToken('68946'));
    expect(await refusalCode(attacker)).toBe(2);
    await victim.publishAsync('4711/still-here', 'yes', { qos: 1 });
    await inbox.waitFor('4711/still-here');
    expect(victim.connected).toBe(true);
    await closeAll(victim, attacker);
  });

  it('takes over its own session: the older connection with the same client id is closed', async () => {
    const clientId = `68946/phone-${transport}`;
    const older = await connected(connectClient(broker, transport, clientId, userToken('68946')));
    const olderClosed = closed(older);
    const newer = await connected(connectClient(broker, transport, clientId, userToken('68946')));
    await olderClosed;
    expect(newer.connected).toBe(true);
    await closeAll(older, newer);
  });

  it('binds handler client ids to the handler name', async () => {
    const token = handlerToken('apples', ['get_apples'], []);
    const good = await connected(connectClient(broker, transport, `$handler/apples/${transport}`, token));
    for (const clientId of [`$handler/pears/${transport}`, `$handler/applesX`, 'apples']) {
      expect(await refusalCode(connectClient(broker, transport, clientId, token))).toBe(2);
    }
    await closeAll(good);
  });

  it.each([
    ['a slash', 'a/b'],
    ['a plus', 'a+b'],
    ['a hash', 'a#'],
    ['a dollar', '$a'],
    ['NUL', 'a\u0000b'],
    ['empty', ''],
  ])('refuses a user id with %s at CONNECT: CONNACK 5, ERR_IDENTITY_INVALID', async (_name, userId) => {
    const clientId = `bad-${transport}-${_name.replace(' ', '-')}`;
    expect(await refusalCode(connectClient(broker, transport, clientId, userToken(userId)))).toBe(5);
    await broker.waitForLog(
      (line) => auditOf(clientId, 'connect')(line) && line.code === 'ERR_IDENTITY_INVALID',
    );
  });

  it('accepts a numeric sub claim as the user id', async () => {
    const client = await connected(
      connectClient(broker, transport, `68946/num-${transport}`, userToken('x', { sub: 68946 })),
    );
    expect(await subscribeRaw(client, ['68946/#', '4711/#'])).toEqual([1, 128]);
    await closeAll(client);
  });

  it('reads the user id from JWT_USER_CLAIM=user_id when so configured', async () => {
    const token = userToken('auth0|abc', { user_id: '42' });
    const client = await connected(connectClient(userIdClaimBroker, transport, `42/${transport}`, token));
    expect(await subscribeRaw(client, ['42/#', 'auth0|abc/#'])).toEqual([1, 128]);
    const noClaim = connectClient(
      userIdClaimBroker,
      transport,
      `auth0|abc/${transport}`,
      userToken('auth0|abc'),
    );
    expect(await refusalCode(noClaim)).toBe(5);
    await closeAll(client, noClaim);
  });
});
