// The remote key set (jwks-rsa behind Cashew's fetch rules): which keys are taken, kid lookup, the
// rate-limited refetch, and backoff after failures, with fetch stubbed and the clock frozen.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTokenVerifier } from '../../broker/auth/verify.ts';
import { resolveOptions } from '../../broker/index.ts';
import { RemoteKeySet } from '../../broker/auth/jwks.ts';
import { generateTestKeyPair, publicJwk, signWith } from '../support/keys.ts';

const rsa = generateTestKeyPair('RS256');
const rsa2 = generateTestKeyPair('RS256');
const ec = generateTestKeyPair('ES256');
const ed = generateTestKeyPair('EdDSA');

/** A stubbed JWKS endpoint: serves `document`, counts requests. */
function stubJwks(initial: unknown): { serve(document: unknown): void; hits(): number } {
  let document = initial;
  const fetchStub = vi.fn(() => Promise.resolve(Response.json(document)));
  vi.stubGlobal('fetch', fetchStub);
  return { serve: (next) => (document = next), hits: () => fetchStub.mock.calls.length };
}

async function codeOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => 'accepted',
    (error: unknown) => (error as { code?: unknown }).code,
  );
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

function keySet(cooldownMs: number): RemoteKeySet {
  return new RemoteKeySet({
    url: 'https://idp.example/jwks',
    setting: 'JWKS_URL',
    algorithms: ['RS256', 'ES256', 'EdDSA'],
    clockToleranceSec: 0,
    timings: { cooldownMs, maxAgeMs: 600_000, staleMs: 3_600_000, retryMs: 1_000 },
  });
}

describe('the keys jwks-rsa takes from a set', () => {
  it('keeps signing keys by kid and skips symmetric, encryption, kid-less, broken and private keys', async () => {
    const withPrivate = { ...rsa2.privateKey.export({ format: 'jwk' }), kid: 'oops', alg: 'RS256' };
    stubJwks({
      keys: [
        publicJwk(rsa, 'rsa'),
        publicJwk(ec, 'ec'),
        publicJwk(ed, 'ed'),
        { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' },
        { ...publicJwk(rsa2, 'enc'), use: 'enc' },
        { ...publicJwk(rsa2, 'x'), kid: undefined },
        { kty: 'EC', kid: 'broken', crv: 'P-999', x: 'AA', y: 'AA' },
        withPrivate,
        'not a key',
      ],
    });
    const set = keySet(30_000);
    expect(await codeOf(set.checkFor('rsa', 'RS256'))).toBe('accepted');
    expect(await codeOf(set.checkFor('ec', 'ES256'))).toBe('accepted');
    expect(await codeOf(set.checkFor('ed', 'EdDSA'))).toBe('accepted');
    // a published private part is never used: the key is not taken at all
    for (const kid of ['hmac', 'enc', 'x', 'broken', 'oops'])
      expect(await codeOf(set.checkFor(kid, 'RS256'))).toBe('ERR_JWKS_NO_MATCHING_KEY');
  });
});

describe('RemoteKeySet', () => {
  it('looks keys up by kid, refetches on an unknown kid at most once per cooldown', async () => {
    const server = stubJwks({ keys: [publicJwk(rsa, 'k1')] });
    const set = keySet(30_000);
    expect(await codeOf(set.checkFor('k1', 'RS256'))).toBe('accepted');
    expect(server.hits()).toBe(1);
    expect(await codeOf(set.checkFor('k2', 'RS256'))).toBe('ERR_JWKS_NO_MATCHING_KEY');
    expect(server.hits()).toBe(1); // within the cooldown of the first fetch
    server.serve({ keys: [publicJwk(rsa2, 'k2')] });
    for (let i = 0; i < 10; i++)
      expect(await codeOf(set.checkFor('k2', 'RS256'))).toBe('ERR_JWKS_NO_MATCHING_KEY');
    expect(server.hits()).toBe(1);
    vi.setSystemTime(Date.now() + 30_000);
    expect(await codeOf(set.checkFor('k2', 'RS256'))).toBe('accepted');
    expect(server.hits()).toBe(2);
    expect(await codeOf(set.checkFor('k1', 'RS256'))).toBe('ERR_JWKS_NO_MATCHING_KEY'); // rotated out
    expect(server.hits()).toBe(2);
  });

  it('refuses a token without kid, and a kid whose key is for another algorithm', async () => {
    stubJwks({ keys: [publicJwk(rsa, 'k1')] });
    const set = keySet(0);
    expect(await codeOf(set.checkFor(undefined, 'RS256'))).toBe('ERR_JWKS_NO_MATCHING_KEY');
    expect(await codeOf(set.checkFor('k1', 'ES256'))).toBe('ERR_TOKEN_ALGORITHM');
    expect(await codeOf(set.checkFor('k1', 'HS256'))).toBe('ERR_TOKEN_ALGORITHM');
  });

  it('keeps its keys when the endpoint answers something that is not a key set', async () => {
    const server = stubJwks({ keys: [publicJwk(rsa, 'k1')] });
    const set = keySet(0);
    expect(await codeOf(set.checkFor('k1', 'RS256'))).toBe('accepted');
    server.serve({ error: 'maintenance' });
    expect(await codeOf(set.refresh())).toBe('ERR_JWKS_UNAVAILABLE');
    expect(await codeOf(set.checkFor('k1', 'RS256'))).toBe('accepted');
  });

  it('reports an unreachable endpoint as ERR_JWKS_UNAVAILABLE', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(() => Promise.reject(new TypeError('fetch failed'))),
    );
    const set = keySet(0);
    expect(await codeOf(set.checkFor('k1', 'RS256'))).toBe('ERR_JWKS_UNAVAILABLE');
    vi.stubGlobal(
      'fetch',
      vi.fn(() => Promise.resolve(new Response('no', { status: 503 }))),
    );
    vi.setSystemTime(Date.now() + 1_000);
    expect(await codeOf(set.refresh())).toBe('ERR_JWKS_UNAVAILABLE');
  });

  it('retries a failed first fetch after its backoff, not after the cooldown, and names the cause meanwhile', async () => {
    const down = vi.fn(() => Promise.reject(new TypeError('fetch failed')));
    vi.stubGlobal('fetch', down);
    const set = keySet(30_000);
    expect(await codeOf(set.refresh())).toBe('ERR_JWKS_UNAVAILABLE'); // at start
    await expect(set.checkFor('k1', 'RS256')).rejects.toMatchObject({
      code: 'ERR_JWKS_UNAVAILABLE',
      message: expect.stringContaining('JWKS unreachable'),
    });
    expect(down).toHaveBeenCalledTimes(1); // within the backoff: the IdP is not asked again
    const server = stubJwks({ keys: [publicJwk(rsa, 'k1')] });
    vi.setSystemTime(Date.now() + 1_000);
    expect(await codeOf(set.checkFor('k1', 'RS256'))).toBe('accepted');
    expect(server.hits()).toBe(1);
  });

  it('backs off 1×, 2×, 4× the retry time while the endpoint stays down', async () => {
    const down = vi.fn(() => Promise.reject(new TypeError('fetch failed')));
    vi.stubGlobal('fetch', down);
    const set = keySet(30_000);
    for (const [waitMs, calls] of [
      [0, 1],
      [999, 1],
      [1, 2],
      [1_999, 2],
      [1, 3],
      [3_999, 3],
      [1, 4],
    ] as const) {
      vi.setSystemTime(Date.now() + waitMs);
      expect(await codeOf(set.refresh())).toBe('ERR_JWKS_UNAVAILABLE');
      expect(down).toHaveBeenCalledTimes(calls);
    }
  });
});

describe('a verifier on a JWKS', () => {
  it('verifies by kid and refuses an EdDSA header pointed at an RSA key', async () => {
    const rsaWithoutAlg = { ...publicJwk(rsa, 'rsa'), alg: undefined };
    stubJwks({ keys: [rsaWithoutAlg, publicJwk(ed, 'ed')] });
    const verifier = await createTokenVerifier(
      resolveOptions({ JWKS_URL: 'https://idp.example/jwks', JWT_ALGORITHMS: 'RS256,EdDSA' }).token,
    );
    expect(await codeOf(verifier.verify(signWith(rsa, { sub: '1' }, { kid: 'rsa' })))).toBe('accepted');
    expect(await codeOf(verifier.verify(signWith(ed, { sub: '1' }, { kid: 'ed' })))).toBe('accepted');
    const confused = signWith(ed, { sub: '1' }, { kid: 'rsa' });
    expect(await codeOf(verifier.verify(confused))).toBe('ERR_TOKEN_ALGORITHM');
    expect(await codeOf(verifier.verify(signWith(rsa, { sub: '1' }, { kid: 'nope' })))).toBe(
      'ERR_JWKS_NO_MATCHING_KEY',
    );
  });
});
