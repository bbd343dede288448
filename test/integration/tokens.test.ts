// Token failures over real TLS and WSS sockets, each with its CONNACK code and audit code, and every
// asymmetric algorithm with a PEM public key.
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditOf, startTestBroker, TEST_SECRET, type TestBroker } from '../support/broker.ts';
import {
  closeAll,
  connectClient,
  connected,
  refusalCode,
  subscribeRaw,
  TRANSPORTS,
} from '../support/clients.ts';
import {
  generateTestKeyPair,
  signWith,
  unsignedToken,
  writeTempPem,
  type AsymmetricAlgorithm,
} from '../support/keys.ts';

const ISSUER = 'https://idp.example/';
const AUDIENCE = 'cashew';
const now = () => Math.floor(Date.now() / 1000);
const hs = (claims: Record<string, unknown>, secret: string = TEST_SECRET) =>
  jwt.sign({ sub: '68946', iss: ISSUER, aud: AUDIENCE, exp: now() + 600, ...claims }, secret, {
    algorithm: 'HS256',
  });

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker({ JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, JWT_CLOCK_TOLERANCE: '0' });
});
afterAll(async () => {
  await broker.close();
});

const FAILURES: readonly [string, () => string | undefined, number, string][] = [
  ['a missing password', () => undefined, 4, 'ERR_TOKEN_MISSING'],
  ['a malformed token', () => 'this-is-not-a-jwt', 5, 'ERR_TOKEN_MALFORMED'],
  ['a bad signature', () => hs({}, 'a-different-secret-that-is-long-enough'), 5, 'ERR_TOKEN_SIGNATURE'],
  [
    'alg none',
    () => unsignedToken({ sub: '68946', iss: ISSUER, aud: AUDIENCE }, 'c2ln'),
    5,
    'ERR_TOKEN_ALGORITHM',
  ],
  ['an expired token', () => hs({ exp: now() - 5 }), 5, 'ERR_TOKEN_EXPIRED'],
  ['nbf in the future', () => hs({ nbf: now() + 600 }), 5, 'ERR_TOKEN_NOT_YET_VALID'],
  ['a wrong issuer', () => hs({ iss: 'https://evil.example/' }), 5, 'ERR_TOKEN_CLAIM'],
  ['a wrong audience', () => hs({ aud: 'someone-else' }), 5, 'ERR_TOKEN_CLAIM'],
  ['no exp', () => jwt.sign({ sub: '68946', iss: ISSUER, aud: AUDIENCE }, TEST_SECRET), 5, 'ERR_TOKEN_CLAIM'],
];

describe.each(TRANSPORTS)('over %s', (transport) => {
  it('accepts a valid token with the configured issuer and audience', async () => {
    const client = await connected(connectClient(broker, transport, `68946/ok-${transport}`, hs({})));
    await closeAll(client);
  });

  it.each(FAILURES)('refuses %s with CONNACK %i and audit code %s', async (name, token, returnCode, code) => {
    const clientId = `68946/${transport}-${name.replaceAll(' ', '-')}`;
    const password = token();
    const client = connectClient(
      broker,
      transport,
      clientId,
      password ?? '',
      password === undefined ? { password: undefined } : {},
    );
    expect(await refusalCode(client)).toBe(returnCode);
    const audit = await broker.waitForLog(auditOf(clientId, 'connect'));
    expect(audit).toMatchObject({ code, returnCode, identity: 'unknown', clientId });
    await closeAll(client);
  });
});

describe.each(TRANSPORTS)('alg none with an empty signature, over %s', (transport) => {
  it('is refused with CONNACK 5', async () => {
    const clientId = `68946/${transport}-none-empty`;
    const client = connectClient(broker, transport, clientId, unsignedToken({ sub: '68946', iss: ISSUER }));
    expect(await refusalCode(client)).toBe(5);
    const audit = await broker.waitForLog(auditOf(clientId, 'connect'));
    expect(['ERR_TOKEN_ALGORITHM', 'ERR_TOKEN_MALFORMED']).toContain(audit.code);
    await closeAll(client);
  });
});

describe.each<AsymmetricAlgorithm>(['RS256', 'PS256', 'ES256', 'EdDSA'])(
  '%s with a PEM public key',
  (alg) => {
    const pair = generateTestKeyPair(alg);
    let pemBroker: TestBroker;
    beforeAll(async () => {
      pemBroker = await startTestBroker({
        JWT_SECRET: '',
        JWT_PUBLIC_KEY: writeTempPem(pair.publicPem),
        JWT_ALGORITHMS: alg,
      });
    });
    afterAll(async () => {
      await pemBroker.close();
    });

    it.each(TRANSPORTS)('accepts a token it signs, over %s', async (transport) => {
      const client = await connected(
        connectClient(pemBroker, transport, `68946/${alg}-${transport}`, signWith(pair, { sub: '68946' })),
      );
      expect(await subscribeRaw(client, ['68946/#', '4711/#'])).toEqual([1, 128]);
      await closeAll(client);
    });

    it('refuses a token signed by another key', async () => {
      const other = generateTestKeyPair(alg);
      const client = connectClient(
        pemBroker,
        'mqtts',
        `68946/${alg}-other`,
        signWith(other, { sub: '68946' }),
      );
      expect(await refusalCode(client)).toBe(5);
      expect(await pemBroker.waitForLog(auditOf(`68946/${alg}-other`))).toMatchObject({
        code: 'ERR_TOKEN_SIGNATURE',
      });
    });
  },
);

describe('an RS256-configured broker', () => {
  const pair = generateTestKeyPair('RS256');
  const pemPath = writeTempPem(pair.publicPem);
  let rsBroker: TestBroker;
  beforeAll(async () => {
    rsBroker = await startTestBroker({ JWT_SECRET: '', JWT_PUBLIC_KEY: pemPath, JWT_ALGORITHMS: 'RS256' });
  });
  afterAll(async () => {
    await rsBroker.close();
  });

  it.each(TRANSPORTS)(
    'refuses an HS256 token, and one signed with the public key as HMAC secret, over %s',
    async (transport) => {
      for (const [suffix, secret] of [
        ['hs', TEST_SECRET],
        ['pem', pair.publicPem],
      ] as const) {
        const clientId = `68946/${transport}-${suffix}`;
        const token = jwt.sign({ sub: '68946', exp: now() + 600 }, secret, { algorithm: 'HS256' });
        expect(await refusalCode(connectClient(rsBroker, transport, clientId, token))).toBe(5);
        expect(await rsBroker.waitForLog(auditOf(clientId))).toMatchObject({ code: 'ERR_TOKEN_ALGORITHM' });
      }
    },
  );

  it('cannot be configured to accept HS256 next to the public key', async () => {
    await expect(
      startTestBroker({ JWT_SECRET: '', JWT_PUBLIC_KEY: pemPath, JWT_ALGORITHMS: 'RS256,HS256' }),
    ).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      message: expect.stringContaining('JWT_ALGORITHMS'),
    });
  });
});
