// Signing keys and hand-made tokens for tests: every asymmetric algorithm, EdDSA by hand
// (jsonwebtoken cannot sign it), `alg: none`, and PEM files for JWT_PUBLIC_KEY.
import { generateKeyPairSync, sign as signBytes, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';

export type AsymmetricAlgorithm = 'RS256' | 'PS256' | 'ES256' | 'EdDSA';

export interface TestKeyPair {
  readonly alg: AsymmetricAlgorithm;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly publicPem: string;
}

export function generateTestKeyPair(alg: AsymmetricAlgorithm): TestKeyPair {
  const pair =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'EdDSA'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return { alg, privateKey: pair.privateKey, publicKey: pair.publicKey, publicPem };
}

/** Writes a PEM to a fresh temp file and returns its path (for JWT_PUBLIC_KEY). */
export function writeTempPem(pem: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'cashew-key-')), 'public.pem');
  writeFileSync(path, pem);
  return path;
}

const segment = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A signed token with any header; `exp` defaults to one hour from now. */
export function signWith(
  pair: TestKeyPair,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): string {
  const payload = {
    iat: Math.floor(Date.now() / 1000),
    exp: Math.floor(Date.now() / 1000) + 3600,
    ...claims,
  };
  if (pair.alg === 'EdDSA') {
    const signed = `${segment({ alg: 'EdDSA', typ: 'JWT', ...header })}.${segment(payload)}`;
    return `${signed}.${signBytes(null, Buffer.from(signed), pair.privateKey).toString('base64url')}`;
  }
  return jwt.sign(payload, pair.privateKey, {
    algorithm: pair.alg,
    ...(typeof header.kid === 'string' && { keyid: header.kid }),
  });
}

/** An unsigned token (`alg: none`), as an attacker would hand-craft it (empty signature unless given). */
export function unsignedToken(claims: Record<string, unknown>, signature = ''): string {
  const payload = { exp: Math.floor(Date.now() / 1000) + 3600, ...claims };
  return `${segment({ alg: 'none', typ: 'JWT' })}.${segment(payload)}.${signature}`;
}

/** The public JWK of a key pair, as an identity provider publishes it. */
export function publicJwk(pair: TestKeyPair, kid: string): Record<string, unknown> {
  return { ...pair.publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: pair.alg };
}
