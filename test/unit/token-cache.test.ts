// The verified-token cache (JWT_CACHE_SIZE), through the verifier the broker uses, with a frozen clock:
// a token seen before skips the signature check, but never the checks that depend on time; refusals
// are never remembered; the cache is bounded and can be turned off. Bans and JWKS key removal with a
// cached token: test/integration/token-cache.test.ts and jwks-trust.test.ts.
import jwt from 'jsonwebtoken';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CacheLookup } from '../../broker/auth/token-cache.ts';
import { createTokenVerifier, type TokenVerifier } from '../../broker/auth/verify.ts';
import { resolveOptions, type Settings } from '../../broker/index.ts';
import { TEST_SECRET } from '../support/broker.ts';
import { generateTestKeyPair, signWith, writeTempPem } from '../support/keys.ts';

const NOW = new Date('2030-01-01T00:00:00Z');
const nowSec = NOW.getTime() / 1000;

let lookups: CacheLookup[] = [];

function verifierFor(settings: Settings): Promise<TokenVerifier> {
  return createTokenVerifier(resolveOptions(settings).token, {
    onCacheLookup: (result) => lookups.push(result),
  });
}

async function codeOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => 'accepted',
    (error: unknown) => (error as { code?: unknown }).code,
  );
}

const hs = (claims: Record<string, unknown>, secret = TEST_SECRET) =>
  jwt.sign({ sub: '68946', iat: nowSec, exp: nowSec + 60, ...claims }, secret, { algorithm: 'HS256' });

beforeEach(() => {
  lookups = [];
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('a token verified before', () => {
  it.each(['HS256', 'RS256', 'ES256'] as const)(
    '%s: is recalled on its next use, with the same identity',
    async (alg) => {
      const pair = alg === 'HS256' ? undefined : generateTestKeyPair(alg);
      const verifier = await verifierFor(
        pair === undefined
          ? { JWT_SECRET: TEST_SECRET }
          : { JWT_PUBLIC_KEY: writeTempPem(pair.publicPem), JWT_ALGORITHMS: alg },
      );
      const claims = { sub: '68946', iat: nowSec, exp: nowSec + 60 };
      const token = pair === undefined ? hs({}) : signWith(pair, claims);
      const first = await verifier.verify(token);
      const again = await verifier.verify(token);
      expect(again).toEqual(first);
      expect(lookups).toEqual(['miss', 'hit']);
    },
  );

  it('is refused once it has expired, though still cached: dates are checked at every use', async () => {
    const verifier = await verifierFor({ JWT_SECRET: TEST_SECRET, JWT_CLOCK_TOLERANCE: '0' });
    const token = hs({});
    expect(await codeOf(verifier.verify(token))).toBe('accepted');
    vi.setSystemTime((nowSec + 60) * 1000);
    expect(await codeOf(verifier.verify(token))).toBe('ERR_TOKEN_EXPIRED');
    expect(lookups).toEqual(['miss', 'hit']);
  });

  it('is refused for another trust’s issuer and audience rules as before (the claims are re-checked)', async () => {
    const verifier = await verifierFor({ JWT_SECRET: TEST_SECRET, JWT_AUDIENCE: 'cashew' });
    const token = hs({ aud: 'someone-else' });
    expect(await codeOf(verifier.verify(token))).toBe('ERR_TOKEN_CLAIM');
    expect(await codeOf(verifier.verify(token))).toBe('ERR_TOKEN_CLAIM');
    expect(lookups).toEqual(['miss', 'miss']);
  });
});

describe('refusals are never remembered', () => {
  it('a bad signature is checked again each time', async () => {
    const verifier = await verifierFor({ JWT_SECRET: TEST_SECRET });
    const forged = hs({}, `${TEST_SECRET}-not-the-secret`);
    expect(await codeOf(verifier.verify(forged))).toBe('ERR_TOKEN_SIGNATURE');
    expect(await codeOf(verifier.verify(forged))).toBe('ERR_TOKEN_SIGNATURE');
    expect(lookups).toEqual(['miss', 'miss']);
  });

  it('a token not valid yet is accepted as soon as it is (no refusal kept for the clock tolerance)', async () => {
    const verifier = await verifierFor({ JWT_SECRET: TEST_SECRET, JWT_CLOCK_TOLERANCE: '30' });
    const token = hs({ nbf: nowSec + 31 });
    expect(await codeOf(verifier.verify(token))).toBe('ERR_TOKEN_NOT_YET_VALID');
    vi.setSystemTime((nowSec + 1) * 1000);
    expect(await codeOf(verifier.verify(token))).toBe('accepted');
    expect(lookups).toEqual(['miss', 'miss']);
  });
});

describe('bounds', () => {
  it('keeps at most JWT_CACHE_SIZE tokens, the least recently used evicted first', async () => {
    const verifier = await verifierFor({ JWT_SECRET: TEST_SECRET, JWT_CACHE_SIZE: '2' });
    const [a, b, c] = ['1', '2', '3'].map((sub) => hs({ sub }));
    for (const token of [a, b, a, c, a, b]) await verifier.verify(token ?? '');
    // a b: missed; a: hit (now the most recent); c evicts b; a: hit; b: missed again
    expect(lookups).toEqual(['miss', 'miss', 'hit', 'miss', 'hit', 'miss']);
  });

  it('JWT_CACHE_SIZE=0 turns it off: every token is verified, nothing looked up', async () => {
    const verifier = await verifierFor({ JWT_SECRET: TEST_SECRET, JWT_CACHE_SIZE: '0' });
    const token = hs({});
    expect(await codeOf(verifier.verify(token))).toBe('accepted');
    expect(await codeOf(verifier.verify(token))).toBe('accepted');
    expect(lookups).toEqual([]);
  });

  it('JWT_CACHE_SIZE is validated at start, default 10,000', () => {
    expect(resolveOptions({ JWT_SECRET: TEST_SECRET }).token.cacheSize).toBe(10_000);
    for (const value of ['-1', 'many', '1000001'])
      expect(() => resolveOptions({ JWT_SECRET: TEST_SECRET, JWT_CACHE_SIZE: value })).toThrow(
        /JWT_CACHE_SIZE/,
      );
  });
});
