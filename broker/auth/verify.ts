// Token verification: a small factory that validates its options once and returns an async verify.
// The token is split and decoded once; the signature is checked with node:crypto (signature.ts),
// then the registered claims (exp, nbf, iss, aud) with the same rules jsonwebtoken applies.
import { CashewError, isRecord } from '../../protocol/index.ts';
import type { TokenOptions } from '../options.ts';
import { isAlgorithm } from './algorithms.ts';
import { prepareKeys, type PreparedKeys } from './keys.ts';
import { verifyJwsSignature } from './signature.ts';

export type Claims = Readonly<Record<string, unknown>>;

export interface TokenVerifier {
  /** Resolves with the verified claims or rejects with a CashewError (ERR_TOKEN_*, ERR_JWKS_*). */
  verify(token: string): Promise<Claims>;
  readonly keys: PreparedKeys;
}

/** Three base64url segments; the signature may be empty here (`alg: none`), refused after the alg check. */
const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

function decodeSegment(segment: string): unknown {
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

interface DecodedToken {
  readonly header: Record<string, unknown>;
  readonly claims: Claims;
  readonly signingInput: string;
  readonly signature: Buffer;
}

function decode(token: string): DecodedToken {
  if (!JWS_COMPACT.test(token)) throw new CashewError('ERR_TOKEN_MALFORMED');
  const firstDot = token.indexOf('.');
  const secondDot = token.indexOf('.', firstDot + 1);
  const header = decodeSegment(token.slice(0, firstDot));
  const claims = decodeSegment(token.slice(firstDot + 1, secondDot));
  if (!isRecord(header) || !isRecord(claims)) throw new CashewError('ERR_TOKEN_MALFORMED');
  return {
    header,
    claims,
    signingInput: token.slice(0, secondDot),
    signature: Buffer.from(token.slice(secondDot + 1), 'base64url'),
  };
}

function audienceMatches(aud: unknown, expected: string): boolean {
  return aud === expected || (Array.isArray(aud) && aud.includes(expected));
}

/** exp, nbf (with the clock tolerance), iss and aud, as jsonwebtoken checks them. */
function checkRegisteredClaims(claims: Claims, options: TokenOptions, nowSec: number): void {
  const skew = options.clockToleranceSec;
  if (claims.exp !== undefined && typeof claims.exp !== 'number')
    throw new CashewError('ERR_TOKEN_CLAIM', 'exp is not a number');
  if (typeof claims.exp === 'number' && nowSec >= claims.exp + skew)
    throw new CashewError('ERR_TOKEN_EXPIRED');
  if (claims.nbf !== undefined && typeof claims.nbf !== 'number')
    throw new CashewError('ERR_TOKEN_CLAIM', 'nbf is not a number');
  if (typeof claims.nbf === 'number' && nowSec + skew < claims.nbf)
    throw new CashewError('ERR_TOKEN_NOT_YET_VALID');
  if (options.issuer !== undefined && claims.iss !== options.issuer)
    throw new CashewError('ERR_TOKEN_CLAIM', 'iss');
  if (options.audience !== undefined && !audienceMatches(claims.aud, options.audience)) {
    throw new CashewError('ERR_TOKEN_CLAIM', 'aud');
  }
}

export async function createTokenVerifier(options: TokenOptions): Promise<TokenVerifier> {
  const keys = await prepareKeys(options);

  async function verify(token: string): Promise<Claims> {
    if (token === '') throw new CashewError('ERR_TOKEN_MISSING');
    const { header, claims, signingInput, signature } = decode(token);
    const { alg } = header;
    if (!isAlgorithm(alg) || !options.algorithms.includes(alg)) {
      throw new CashewError('ERR_TOKEN_ALGORITHM', `algorithm ${String(alg)} is not accepted`);
    }
    if (signature.length === 0) throw new CashewError('ERR_TOKEN_MALFORMED', 'the token has no signature');
    const key = await keys.resolve(alg, header.kid);
    if (!verifyJwsSignature(alg, key, signingInput, signature)) throw new CashewError('ERR_TOKEN_SIGNATURE');
    checkRegisteredClaims(claims, options, Math.floor(Date.now() / 1000));
    if (typeof claims.exp !== 'number') throw new CashewError('ERR_TOKEN_CLAIM', 'the token has no exp');
    return claims;
  }

  return { verify, keys };
}
