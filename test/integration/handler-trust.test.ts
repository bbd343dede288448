// Separate trust for handlers: users from an identity provider (a stand-in IdP with a JWKS), handlers
// from a key source of their own (HANDLER_*). A `handler` claim in a token of the users' IdP never
// makes a handler, over real TLS and WSS clients; an Auth0-style machine-to-machine audience does.
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditOf, startTestBroker, type TestBroker } from '../support/broker.ts';
import {
  closeAll,
  connectClient,
  connected,
  refusalCode,
  subscribeRaw,
  TRANSPORTS,
} from '../support/clients.ts';
import { startStandInIdp, type StandInIdp } from '../support/stand-in-idp.ts';

const HANDLER_SECRET = 'handler-secret-that-is-long-enough-0123456789';
const ping = { name: 'ping', commands: ['ping'], events: ['pong'] };

function operatorHandlerToken(claims: Record<string, unknown> = {}, secret = HANDLER_SECRET): string {
  return jwt.sign({ sub: 'handler:ping', handler: ping, aud: 'cashew-handlers', ...claims }, secret, {
    algorithm: 'HS256',
    expiresIn: 3600,
  });
}

describe('users from an IdP, handlers from the operator (HANDLER_JWT_SECRET)', () => {
  let idp: StandInIdp;
  let broker: TestBroker;
  beforeAll(async () => {
    idp = await startStandInIdp();
    broker = await startTestBroker({
      JWT_SECRET: '',
      JWKS_URL: idp.jwksUrl,
      JWT_ISSUER: idp.issuer,
      HANDLER_JWT_SECRET: HANDLER_SECRET,
      HANDLER_JWT_AUDIENCE: 'cashew-handlers',
    });
  });
  afterAll(async () => {
    await broker.close();
    await idp.close();
  });

  it.each(TRANSPORTS)('a user of the IdP connects as a user over %s', async (transport) => {
    const user = await connected(
      connectClient(broker, transport, `68946/${transport}`, idp.sign({ sub: '68946' })),
    );
    expect(await subscribeRaw(user, ['68946/#', '+/ping'])).toEqual([1, 128]);
    await closeAll(user);
  });

  it.each(TRANSPORTS)(
    "a token of the users' IdP with a handler claim is never a handler, over %s",
    async (transport) => {
      const clientId = `$handler/ping/idp-${transport}`;
      const forged = idp.sign({ sub: 'attacker', handler: { ...ping, commands: ['*'], events: ['*'] } });
      expect(await refusalCode(connectClient(broker, transport, clientId, forged))).toBe(5);
      const audit = await broker.waitForLog(auditOf(clientId, 'connect'));
      expect(audit).toMatchObject({ identity: 'unknown', code: 'ERR_TOKEN_ALGORITHM' });
      expect(audit.reason).toMatch(/^handler token \(HANDLER_\* trust\)/);
      // and with a user's client id it is no user either: the claim is not silently dropped
      const asUser = `attacker/${transport}`;
      expect(await refusalCode(connectClient(broker, transport, asUser, forged))).toBe(5);
    },
  );

  it.each(TRANSPORTS)('an operator handler token makes a handler over %s', async (transport) => {
    const handler = await connected(
      connectClient(broker, transport, `$handler/ping/${transport}`, operatorHandlerToken()),
    );
    expect(await subscribeRaw(handler, ['+/ping', '+/other'])).toEqual([1, 128]);
    await closeAll(handler);
  });

  it('refuses an operator handler token for another audience, saying which was expected', async () => {
    const clientId = '$handler/ping/wrong-aud';
    const token = operatorHandlerToken({ aud: 'someone-else' });
    expect(await refusalCode(connectClient(broker, 'mqtts', clientId, token))).toBe(5);
    expect(await broker.waitForLog(auditOf(clientId))).toMatchObject({
      code: 'ERR_TOKEN_CLAIM',
      reason: 'handler token (HANDLER_* trust): aud expected "cashew-handlers", got "someone-else"',
    });
  });

  it('refuses a handler token signed with another secret', async () => {
    const clientId = '$handler/ping/other-secret';
    const token = operatorHandlerToken({}, 'another-secret-that-is-long-enough-0123456789');
    expect(await refusalCode(connectClient(broker, 'wss', clientId, token))).toBe(5);
    expect(await broker.waitForLog(auditOf(clientId))).toMatchObject({ code: 'ERR_TOKEN_SIGNATURE' });
  });
});

describe('users and machine-to-machine handlers from one IdP, told apart by audience (Auth0 M2M)', () => {
  let idp: StandInIdp;
  let broker: TestBroker;
  beforeAll(async () => {
    idp = await startStandInIdp();
    broker = await startTestBroker({
      JWT_SECRET: '',
      JWKS_URL: idp.jwksUrl,
      JWT_AUDIENCE: 'https://cashew.example/users',
      HANDLER_JWKS_URL: idp.jwksUrl,
      HANDLER_JWT_AUDIENCE: 'https://cashew.example/handlers',
    });
  });
  afterAll(async () => {
    await broker.close();
    await idp.close();
  });

  it('a user token with a handler claim (users audience) is refused; the handlers audience makes a handler', async () => {
    const userAudience = idp.sign({ sub: '68946', aud: 'https://cashew.example/users', handler: ping });
    const clientId = '$handler/ping/user-aud';
    expect(await refusalCode(connectClient(broker, 'mqtts', clientId, userAudience))).toBe(5);
    expect(await broker.waitForLog(auditOf(clientId))).toMatchObject({
      code: 'ERR_TOKEN_CLAIM',
      reason: expect.stringContaining('aud expected "https://cashew.example/handlers"'),
    });
    const m2m = idp.sign({ sub: 'client@clients', aud: 'https://cashew.example/handlers', handler: ping });
    const handler = await connected(connectClient(broker, 'wss', '$handler/ping/m2m', m2m));
    const user = await connected(
      connectClient(
        broker,
        'mqtts',
        '68946/m2m',
        idp.sign({ sub: '68946', aud: 'https://cashew.example/users' }),
      ),
    );
    await closeAll(handler, user);
  });
});
