// The token verifiers bench/tokens.ts compares, each on a key prepared once: today's hand-written code
// (bench/baselines/), fast-jwt, jose, jsonwebtoken, and Cashew's entry point as it is now (fast-jwt
// plus Cashew's claim rules and the identity). Each also as a TokenVerifier, for a broker to CONNECT to.
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createVerifier } from 'fast-jwt';
import { jwtVerify } from 'jose';
import jwt from 'jsonwebtoken';
import { identityFromClaims, type Identity } from '../../broker/auth/identity.ts';
import type { Claims } from '../../broker/auth/claims.ts';
import type { TokenOptions } from '../../broker/auth/token-options.ts';
import { createTokenVerifier, type TokenVerifier } from '../../broker/auth/verify.ts';
import { handwrittenVerifier } from '../baselines/handwritten-verifier.ts';

export const CANDIDATES = ['today', 'cashew', 'fast-jwt', 'jose', 'jsonwebtoken'] as const;
export type Candidate = (typeof CANDIDATES)[number];

export const CANDIDATE_LABELS: Record<Candidate, string> = {
  today: "today's code (hand-written, node:crypto, + identity)",
  cashew: 'Cashew now (fast-jwt + Cashew rules, + identity)',
  'fast-jwt': 'fast-jwt 6 (library alone)',
  jose: 'jose 6 (library alone)',
  jsonwebtoken: 'jsonwebtoken 9 (library alone)',
};

/** Verifies one token: claims (sync or async); throws/rejects when refused. */
export type VerifyOne = (token: string) => unknown;

function keyMaterial(options: TokenOptions): { text: string; key: KeyObject } {
  if (options.secret !== undefined)
    return { text: options.secret, key: createSecretKey(Buffer.from(options.secret, 'utf8')) };
  if (options.publicKeyPath === undefined) throw new Error('bench: a secret or a public key is needed');
  const text = readFileSync(options.publicKeyPath, 'utf8');
  return { text, key: createPublicKey(text) };
}

export async function candidateVerifier(candidate: Candidate, options: TokenOptions): Promise<VerifyOne> {
  const { text, key } = keyMaterial(options);
  const algorithms = [...options.algorithms];
  switch (candidate) {
    case 'today': {
      // as the adapter called it: the async verify (which awaited the key), then the identity
      const verify = handwrittenVerifier(text, options);
      return async (token) =>
        identityFromClaims(
          await Promise.resolve(verify(token)),
          options.userClaim,
          options.clockToleranceSec,
        );
    }
    case 'cashew': {
      const verifier = await createTokenVerifier(options);
      return (token) => verifier.verify(token);
    }
    case 'fast-jwt':
      return createVerifier({ key: text, algorithms, clockTolerance: options.clockToleranceSec * 1000 });
    case 'jose':
      return (token) => jwtVerify(token, key, { algorithms, clockTolerance: options.clockToleranceSec });
    case 'jsonwebtoken':
      return (token) => jwt.verify(token, key, { algorithms: algorithms as jwt.Algorithm[] });
  }
}

/** A candidate as the broker's verification entry point (bench/servers/aedes-hooks.ts). */
export async function candidateTokenVerifier(
  candidate: Candidate,
  options: TokenOptions,
): Promise<TokenVerifier> {
  if (candidate === 'cashew') return createTokenVerifier(options);
  if (candidate === 'today') {
    const verifyOne = await candidateVerifier(candidate, options);
    return { keySets: [], verify: (token) => verifyOne(token) as Promise<Identity> };
  }
  const verifyOne = await candidateVerifier(candidate, options);
  return {
    keySets: [],
    async verify(token) {
      let claims = (await verifyOne(token)) as Claims;
      if (candidate === 'jose') claims = (claims as unknown as { payload: Claims }).payload;
      return identityFromClaims(claims, options.userClaim, options.clockToleranceSec);
    },
  };
}
