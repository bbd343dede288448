// JWS signatures checked with node:crypto: every algorithm family, and the key checks jsonwebtoken made.
import { createSecretKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { verifyJwsSignature } from '../../broker/auth/signature.ts';
import type { Algorithm } from '../../broker/auth/algorithms.ts';

function parts(token: string): [string, Buffer] {
  const dot = token.lastIndexOf('.');
  return [token.slice(0, dot), Buffer.from(token.slice(dot + 1), 'base64url')];
}

function codeOf(run: () => unknown): unknown {
  try {
    return run();
  } catch (error) {
    return (error as { code?: unknown }).code;
  }
}

const secret = createSecretKey(Buffer.from('a-secret-that-is-long-enough-0123456789'));
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const ed = generateKeyPairSync('ed25519');

const cases: [Algorithm, KeyObject, KeyObject][] = [
  ['HS256', secret, secret],
  ['HS512', secret, secret],
  ['RS256', rsa.privateKey, rsa.publicKey],
  ['PS256', rsa.privateKey, rsa.publicKey],
  ['ES256', p256.privateKey, p256.publicKey],
  ['ES384', p384.privateKey, p384.publicKey],
];

describe('verifyJwsSignature', () => {
  it.each(cases)('%s: accepts its signature and refuses a tampered payload', (alg, signKey, verifyKey) => {
    const token = jwt.sign({ sub: 'u1' }, signKey, { algorithm: alg as jwt.Algorithm });
    const [input, signature] = parts(token);
    expect(verifyJwsSignature(alg, verifyKey, input, signature)).toBe(true);
    const tampered = `${input.slice(0, -2)}${input.endsWith('A') ? 'B' : 'A'}${input.slice(-1)}`;
    expect(verifyJwsSignature(alg, verifyKey, tampered, signature)).toBe(false);
  });

  it('verifies EdDSA', async () => {
    const { sign } = await import('node:crypto');
    const input = `${Buffer.from('{"alg":"EdDSA"}').toString('base64url')}.${Buffer.from('{}').toString('base64url')}`;
    const signature = sign(null, Buffer.from(input), ed.privateKey);
    expect(verifyJwsSignature('EdDSA', ed.publicKey, input, signature)).toBe(true);
  });

  it('refuses a key that does not fit the algorithm (no public key as an HMAC secret, no curve swap)', () => {
    const [input, signature] = parts(jwt.sign({}, secret, { algorithm: 'HS256' }));
    expect(codeOf(() => verifyJwsSignature('HS256', rsa.publicKey, input, signature))).toBe(
      'ERR_TOKEN_ALGORITHM',
    );
    expect(codeOf(() => verifyJwsSignature('RS256', secret, input, signature))).toBe('ERR_TOKEN_ALGORITHM');
    expect(codeOf(() => verifyJwsSignature('ES256', p384.publicKey, input, signature))).toBe(
      'ERR_TOKEN_ALGORITHM',
    );
    expect(codeOf(() => verifyJwsSignature('RS256', p256.publicKey, input, signature))).toBe(
      'ERR_TOKEN_ALGORITHM',
    );
  });

  it('returns false for an ECDSA signature of the wrong length instead of throwing', () => {
    const [input, signature] = parts(jwt.sign({}, p256.privateKey, { algorithm: 'ES256' }));
    expect(verifyJwsSignature('ES256', p256.publicKey, input, signature.subarray(0, 40))).toBe(false);
  });
});
