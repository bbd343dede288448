// Signing keys and tokens for the benchmark, made once per run (signing is the identity provider's
// cost, not the broker's). Each algorithm gets its own Cashew instance configured for it.
import { generateKeyPairSync, createSecretKey, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';

export const TOKEN_KINDS = ['HS256', 'RS256', 'ES256', 'invalid signature', 'expired'] as const;
export type TokenKind = (typeof TOKEN_KINDS)[number];
export const SIGNING_ALGORITHMS = ['HS256', 'RS256', 'ES256'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** A command line's `--alg`, checked: the bench has keys for these three only. */
export function signingAlgorithm(value: string | undefined): SigningAlgorithm {
  const found = SIGNING_ALGORITHMS.find((alg) => alg === value);
  if (found === undefined)
    throw new Error(`--alg ${value}: expected one of ${SIGNING_ALGORITHMS.join(', ')}`);
  return found;
}

const SECRET = 'cashew-benchmark-secret-0123456789abcdef';

export interface BenchKeys {
  /** Cashew settings per algorithm. */
  readonly settings: Record<SigningAlgorithm, Record<string, string>>;
  sign(kind: TokenKind, claims: Record<string, unknown>): string;
}

export function createBenchKeys(dir: string): BenchKeys {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rsaPem = join(dir, 'bench-rs256.pub.pem');
  const ecPem = join(dir, 'bench-es256.pub.pem');
  writeFileSync(rsaPem, rsa.publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(ecPem, ec.publicKey.export({ type: 'spki', format: 'pem' }));
  const secret = createSecretKey(Buffer.from(SECRET));
  const wrongSecret = createSecretKey(Buffer.from(`${SECRET}-wrong`));
  const keyFor: Record<TokenKind, [KeyObject, SigningAlgorithm]> = {
    HS256: [secret, 'HS256'],
    RS256: [rsa.privateKey, 'RS256'],
    ES256: [ec.privateKey, 'ES256'],
    'invalid signature': [wrongSecret, 'HS256'],
    expired: [secret, 'HS256'],
  };
  return {
    settings: {
      HS256: { JWT_SECRET: SECRET, JWT_ALGORITHMS: 'HS256' },
      RS256: { JWT_PUBLIC_KEY: rsaPem, JWT_ALGORITHMS: 'RS256' },
      ES256: { JWT_PUBLIC_KEY: ecPem, JWT_ALGORITHMS: 'ES256' },
    },
    sign(kind, claims) {
      const [key, algorithm] = keyFor[kind];
      const nowSec = Math.floor(Date.now() / 1000);
      const exp = kind === 'expired' ? nowSec - 3600 : nowSec + 6 * 3600;
      return jwt.sign({ ...claims, iat: nowSec - 10, exp }, key, { algorithm });
    },
  };
}

/** A user's token (`sub` = user id). */
export function userClaims(userId: string): Record<string, unknown> {
  return { sub: userId };
}

/** A handler token that may emit every event (the benchmark's seeder and publisher). */
export function handlerClaims(name: string, commands: string[] = []): Record<string, unknown> {
  return { sub: `handler:${name}`, handler: { name, commands, events: ['*'] } };
}
