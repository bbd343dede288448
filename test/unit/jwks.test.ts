// JWKS parsing and the remote key set's cache, kid lookup and rate-limited refetch, with fetch stubbed.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTokenVerifier } from '../../broker/auth/verify.ts';
import { resolveOptions } from '../../broker/index.ts';
import { parseJwks, RemoteKeySet } from '../../broker/auth/jwks.ts';
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

describe('parseJwks', () => {
  it('keeps signing keys by kid and skips symmetric, encryption, kid-less and broken keys', () => {
    const keys = parseJwks({
      keys: [
        publicJwk(rsa, 'rsa'),
        publicJwk(ec, 'ec'),
        publicJwk(ed, 'ed'),
        { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' },
        { ...publicJwk(rsa2, 'enc'), use: 'enc' },
        { ...publicJwk(rsa2, 'x'), kid: undefined },
        { kty: 'EC', kid: 'broken', crv: 'P-999', x: 'AA', y: 'AA' },
        'not a key',
      ],
    });
    expect([...keys.keys()].sort()).toEqual(['ec', 'ed', 'rsa']);
    expect(keys.get('rsa')?.alg).toBe('RS256');
    expect(keys.get('rsa')?.key.type).toBe('public');
  });

  it('never keeps a private part that was published by mistake', () => {
    const withPrivate = { ...rsa.privateKey.export({ format: 'jwk' }), kid: 'oops' };
    expect(parseJwks({ keys: [withPrivate] }).get('oops')?.key.type).toBe('public');
  });

  it.each([[undefined], [null], ['x'], [{}], [{ keys: 'x' }]])('reads %j as an empty set', (document) => {
    expect(parseJwks(document).size).toBe(0);
  });
});

describe('RemoteKeySet', () => {
  it('looks keys up by kid, refetches on an unknown kid at most once per cooldown', async () => {
    const server = stubJwks({ keys: [publicJwk(rsa, 'k1')] });
    const set = new RemoteKeySet({ url: 'https://idp.example/jwks', cooldownMs: 30_000 });
    expect((await set.keyFor('k1', 'RS256')).type).toBe('public');
    expect(server.hits()).toBe(1);
    expect(await codeOf(set.keyFor('k2', 'RS256'))).toBe('ERR_JWKS_NO_MATCHING_KEY');
    expect(server.hits()).toBe(1); // within the cooldown of the first fetch
    server.serve({ keys: [publicJwk(rsa2, 'k2')] });
    for (let i = 0; i < 10; i++)
      expect(await codeOf(set.keyFor('k2', 'RS256'))).toBe('ERR_JWKS_NO_MATCHING_KEY');
    expect(server.hits()).toBe(1);
    vi.setSystemTime(Date.now() + 30_000);
    expect(await codeOf(set.keyFor('k2', 'RS256'))).toBe('accepted');
    expect(server.hits()).toBe(2);
    expect(await codeOf(set.keyFor('k1', 'RS256'))).toBe('ERR_JWKS_NO_MATCHING_KEY'); // rotated out
    expect(server.hits()).toBe(2);
  });

  it('refuses a token without kid, and a kid whose key is for another algorithm', async () => {
    stubJwks({ keys: [publicJwk(rsa, 'k1')] });
    const set = new RemoteKeySet({ url: 'https://idp.example/jwks', cooldownMs: 0 });
    expect(await codeOf(set.keyFor(undefined, 'RS256'))).toBe('ERR_JWKS_NO_MATCHING_KEY');
    expect(await codeOf(set.keyFor('k1', 'ES256'))).toBe('ERR_TOKEN_ALGORITHM');
  });

  it('keeps its keys when the endpoint answers something that is not a key set', async () => {
    const server = stubJwks({ keys: [publicJwk(rsa, 'k1')] });
    const set = new RemoteKeySet({ url: 'https://idp.example/jwks', cooldownMs: 0 });
    await set.refresh();
    server.serve({ error: 'maintenance' });
    expect(await codeOf(set.refresh())).toBe('ERR_JWKS_UNAVAILABLE');
    expect(await codeOf(set.keyFor('k1', 'RS256'))).toBe('accepted');
  });

  it('reports an unreachable endpoint as ERR_JWKS_UNAVAILABLE', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(() => Promise.reject(new TypeError('fetch failed'))),
    );
    const set = new RemoteKeySet({ url: 'https://idp.example/jwks', cooldownMs: 0 });
    expect(await codeOf(set.keyFor('k1', 'RS256'))).toBe('ERR_JWKS_UNAVAILABLE');
    vi.stubGlobal(
      'fetch',
      vi.fn(() => Promise.resolve(new Response('no', { status: 503 }))),
    );
    expect(await codeOf(set.refresh())).toBe('ERR_JWKS_UNAVAILABLE');
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
