// The token verifier with a frozen clock: signatures, pinned algorithms, exp/nbf with skew, iss/aud, crit.
// (The signature checks were test/unit/signature.test.ts when Cashew verified signatures by hand.)
import { createHmac, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTokenVerifier, type TokenVerifier } from '../../broker/auth/verify.ts';
import { resolveOptions, type Settings } from '../../broker/index.ts';
import { TEST_SECRET } from '../support/broker.ts';
import {
  generateTestKeyPair,
  signWith,
  unsignedToken,
  writeTempPem,
  type AsymmetricAlgorithm,
} from '../support/keys.ts';

const NOW = new Date('2030-01-01T00:00:00Z');
const nowSec = NOW.getTime() / 1000;

function verifierFor(settings: Settings): Promise<TokenVerifier> {
  return createTokenVerifier(resolveOptions(settings).token);
}

async function codeOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => 'accepted',
    (error: unknown) => (error as { code?: unknown }).code,
  );
}

const hs = (claims: Record<string, unknown>, secret = TEST_SECRET, algorithm: jwt.Algorithm = 'HS256') =>
  jwt.sign({ sub: '68946', iat: nowSec, exp: nowSec + 60, ...claims }, secret, { algorithm });

/** An HS256 token signed by hand, for claims jsonwebtoken would refuse to sign. */
function rawHs(payload: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${segment({ alg: 'HS256', typ: 'JWT', ...header })}.${segment(payload)}`;
  return `${input}.${createHmac('sha256', TEST_SECRET).update(input).digest('base64url')}`;
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('HS256 with a shared secret', () => {
  it('returns the identity of a valid token, expiring at exp + tolerance, with its jti and iat', async () => {
    const verifier = await verifierFor({ JWT_SECRET: TEST_SECRET });
    await expect(verifier.verify(hs({}))).resolves.toEqual({
      role: 'user',
      userId: '68946',
      partitionPrefix: '68946/',
      expiresAt: (nowSec + 60 + 30) * 1000,
      issuedAtSec: nowSec,
    });
    await expect(verifier.verify(hs({ jti: 'token-1' }))).resolves.toMatchObject({ jti: 'token-1' });
  });

  it.each([
    ['missing', '', 'ERR_TOKEN_MISSING'],
    ['malformed', 'not-a-jwt', 'ERR_TOKEN_MALFORMED'],
    ['two segments', 'a.b', 'ERR_TOKEN_MALFORMED'],
    ['garbage segments', 'e30.bm90IGpzb24.x', 'ERR_TOKEN_MALFORMED'],
  ])('refuses a %s token', async (_name, token, code) => {
    const verifier = await verifierFor({ JWT_SECRET: TEST_SECRET });
    expect(await codeOf(verifier.verify(token))).toBe(code);
  });

  it('refuses a bad signature, alg none, and an algorithm that is not configured', async () => {
    const verifier = await verifierFor({ JWT_SECRET: TEST_SECRET });
    expect(await codeOf(verifier.verify(hs({}, 'another-secret-that-is-long-enough-000')))).toBe(
      'ERR_TOKEN_SIGNATURE',
    );
    // alg none with a signature segment: refused for its algorithm; with the canonical empty one,
    // refused before (malformed: a JWS signature is never empty) or at the algorithm check
    expect(await codeOf(verifier.verify(unsignedToken({ sub: '68946', exp: nowSec + 60 }, 'c2ln')))).toBe(
      'ERR_TOKEN_ALGORITHM',
    );
    expect(['ERR_TOKEN_ALGORITHM', 'ERR_TOKEN_MALFORMED']).toContain(
      await codeOf(verifier.verify(unsignedToken({ sub: '68946', exp: nowSec + 60 }))),
    );
    expect(await codeOf(verifier.verify(hs({}, TEST_SECRET, 'HS512')))).toBe('ERR_TOKEN_ALGORITHM');
    const both = await verifierFor({ JWT_SECRET: TEST_SECRET, JWT_ALGORITHMS: 'HS256,HS512' });
    expect(await codeOf(both.verify(hs({}, TEST_SECRET, 'HS512')))).toBe('accepted');
  });

  it('refuses a token without exp, or with a non-numeric exp or nbf, as ERR_TOKEN_CLAIM', async () => {
    const verifier = await verifierFor({ JWT_SECRET: TEST_SECRET });
    const token = jwt.sign({ sub: '68946' }, TEST_SECRET, { algorithm: 'HS256' });
    expect(await codeOf(verifier.verify(token))).toBe('ERR_TOKEN_CLAIM');
    expect(await codeOf(verifier.verify(rawHs({ sub: '68946', exp: String(nowSec + 60) })))).toBe(
      'ERR_TOKEN_CLAIM',
    );
    expect(await codeOf(verifier.verify(rawHs({ sub: '68946', exp: nowSec + 60, nbf: 'now' })))).toBe(
      'ERR_TOKEN_CLAIM',
    );
  });

  it('checks exp and nbf with the configured clock tolerance', async () => {
    const strict = await verifierFor({ JWT_SECRET: TEST_SECRET, JWT_CLOCK_TOLERANCE: '0' });
    const lenient = await verifierFor({ JWT_SECRET: TEST_SECRET, JWT_CLOCK_TOLERANCE: '30' });
    const expired = hs({ exp: nowSec - 10 });
    const notYet = hs({ nbf: nowSec + 10 });
    expect(await codeOf(strict.verify(expired))).toBe('ERR_TOKEN_EXPIRED');
    expect(await codeOf(lenient.verify(expired))).toBe('accepted');
    expect(await codeOf(strict.verify(notYet))).toBe('ERR_TOKEN_NOT_YET_VALID');
    expect(await codeOf(lenient.verify(notYet))).toBe('accepted');
    expect(await codeOf(lenient.verify(hs({ exp: nowSec - 31 })))).toBe('ERR_TOKEN_EXPIRED');
    expect(await codeOf(strict.verify(hs({ exp: nowSec })))).toBe('ERR_TOKEN_EXPIRED');
    vi.setSystemTime(NOW.getTime() + 20_000);
    expect(await codeOf(strict.verify(notYet))).toBe('accepted');
  });

  it('checks iss and aud when configured', async () => {
    const verifier = await verifierFor({
      JWT_SECRET: TEST_SECRET,
      JWT_ISSUER: 'https://idp.example/',
      JWT_AUDIENCE: 'cashew',
    });
    const good = { iss: 'https://idp.example/', aud: 'cashew' };
    expect(await codeOf(verifier.verify(hs(good)))).toBe('accepted');
    expect(await codeOf(verifier.verify(hs({ ...good, aud: ['other', 'cashew'] })))).toBe('accepted');
    expect(await codeOf(verifier.verify(hs({ ...good, iss: 'https://evil.example/' })))).toBe(
      'ERR_TOKEN_CLAIM',
    );
    expect(await codeOf(verifier.verify(hs({ ...good, aud: 'other' })))).toBe('ERR_TOKEN_CLAIM');
    expect(await codeOf(verifier.verify(hs({ aud: 'cashew' })))).toBe('ERR_TOKEN_CLAIM');
  });

  it('says what iss and aud were expected and what the token had (the audit reason)', async () => {
    const verifier = await verifierFor({
      JWT_SECRET: TEST_SECRET,
      JWT_ISSUER: 'https://idp.example/',
      JWT_AUDIENCE: 'cashew',
    });
    await expect(verifier.verify(hs({ iss: 'https://evil.example/', aud: 'cashew' }))).rejects.toMatchObject({
      code: 'ERR_TOKEN_CLAIM',
      message: 'iss expected "https://idp.example/", got "https://evil.example/"',
    });
    await expect(verifier.verify(hs({ iss: 'https://idp.example/' }))).rejects.toMatchObject({
      code: 'ERR_TOKEN_CLAIM',
      message: 'aud expected "cashew", got none',
    });
  });

  it('refuses a token whose crit header lists an extension it does not understand (RFC 7515 §4.1.11)', async () => {
    const verifier = await verifierFor({ JWT_SECRET: TEST_SECRET });
    const claims = { sub: '68946', exp: nowSec + 60 };
    const critical = rawHs(claims, {
      crit: ['urn:example:must-understand'],
      'urn:example:must-understand': 1,
    });
    expect(await codeOf(verifier.verify(critical))).toBe('ERR_TOKEN_CRIT');
    expect(await codeOf(verifier.verify(rawHs(claims)))).toBe('accepted');
    const malformedCrit = rawHs(claims, { crit: 'exp' });
    expect(await codeOf(verifier.verify(malformedCrit))).toBe('ERR_TOKEN_CRIT');
  });
});

describe.each<AsymmetricAlgorithm>(['RS256', 'PS256', 'ES256', 'EdDSA'])(
  '%s with a PEM public key',
  (alg) => {
    const pair = generateTestKeyPair(alg);
    const other = generateTestKeyPair(alg);
    const settings = { JWT_PUBLIC_KEY: writeTempPem(pair.publicPem), JWT_ALGORITHMS: alg };

    it('accepts a token signed with the private key and refuses one signed with another key', async () => {
      const verifier = await verifierFor(settings);
      expect(await codeOf(verifier.verify(signWith(pair, { sub: '68946' })))).toBe('accepted');
      expect(await codeOf(verifier.verify(signWith(other, { sub: '68946' })))).toBe('ERR_TOKEN_SIGNATURE');
    });

    it('checks exp, nbf, iss and aud on this algorithm too', async () => {
      const verifier = await verifierFor({
        ...settings,
        JWT_CLOCK_TOLERANCE: '5',
        JWT_ISSUER: 'idp',
        JWT_AUDIENCE: 'cashew',
      });
      const base = { sub: '68946', iss: 'idp', aud: 'cashew' };
      expect(await codeOf(verifier.verify(signWith(pair, base)))).toBe('accepted');
      expect(await codeOf(verifier.verify(signWith(pair, { ...base, exp: nowSec - 6 })))).toBe(
        'ERR_TOKEN_EXPIRED',
      );
      expect(await codeOf(verifier.verify(signWith(pair, { ...base, exp: nowSec - 4 })))).toBe('accepted');
      expect(await codeOf(verifier.verify(signWith(pair, { ...base, nbf: nowSec + 6 })))).toBe(
        'ERR_TOKEN_NOT_YET_VALID',
      );
      expect(await codeOf(verifier.verify(signWith(pair, { ...base, iss: 'other' })))).toBe(
        'ERR_TOKEN_CLAIM',
      );
      expect(await codeOf(verifier.verify(signWith(pair, { ...base, aud: 'other' })))).toBe(
        'ERR_TOKEN_CLAIM',
      );
    });

    it('refuses an HS256 token signed with the public key text as the HMAC secret', async () => {
      const verifier = await verifierFor(settings);
      const forged = jwt.sign({ sub: '68946', exp: nowSec + 60 }, pair.publicPem, { algorithm: 'HS256' });
      expect(await codeOf(verifier.verify(forged))).toBe('ERR_TOKEN_ALGORITHM');
    });
  },
);

describe('configuration-time algorithm pinning', () => {
  const rsa = generateTestKeyPair('RS256');
  const path = writeTempPem(rsa.publicPem);

  it('refuses HS256 next to a public key (no public key as an HMAC secret)', () => {
    expect(() => resolveOptions({ JWT_PUBLIC_KEY: path, JWT_ALGORITHMS: 'RS256,HS256' })).toThrow(
      expect.objectContaining({
        code: 'ERR_CONFIG_INVALID',
        message: expect.stringContaining('JWT_ALGORITHMS'),
      }),
    );
  });

  it('refuses an algorithm the configured key cannot verify', async () => {
    await expect(verifierFor({ JWT_PUBLIC_KEY: path, JWT_ALGORITHMS: 'ES256' })).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      message: expect.stringContaining('JWT_ALGORITHMS'),
    });
    await expect(verifierFor({ JWT_PUBLIC_KEY: path, JWT_ALGORITHMS: 'EdDSA' })).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
    });
  });

  it('refuses an EC key on another curve than the algorithm (P-384 for ES256)', async () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const pem = p384.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await expect(
      verifierFor({ JWT_PUBLIC_KEY: writeTempPem(pem), JWT_ALGORITHMS: 'ES256' }),
    ).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      message: expect.stringContaining('secp384r1'),
    });
  });

  it('refuses a truncated ECDSA signature as a bad signature', async () => {
    const ec = generateTestKeyPair('ES256');
    const verifier = await verifierFor({
      JWT_PUBLIC_KEY: writeTempPem(ec.publicPem),
      JWT_ALGORITHMS: 'ES256',
    });
    const token = signWith(ec, { sub: '68946' });
    const truncated =
      token.slice(0, token.lastIndexOf('.') + 1) + token.slice(token.lastIndexOf('.') + 1, -20);
    expect(await codeOf(verifier.verify(token))).toBe('accepted');
    expect(await codeOf(verifier.verify(truncated))).toBe('ERR_TOKEN_SIGNATURE');
  });

  it('refuses an unreadable or non-PEM JWT_PUBLIC_KEY, naming it', async () => {
    await expect(verifierFor({ JWT_PUBLIC_KEY: '/nonexistent/key.pem' })).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      message: expect.stringContaining('JWT_PUBLIC_KEY'),
    });
    await expect(verifierFor({ JWT_PUBLIC_KEY: writeTempPem('not a key') })).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      message: expect.stringContaining('JWT_PUBLIC_KEY'),
    });
  });
});
