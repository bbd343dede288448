// Token verification: a small factory that validates its options once and returns an async verify.
// jsonwebtoken checks HS/RS/PS/ES tokens; it has no EdDSA, which node:crypto verifies directly.
import { verify as verifySignature, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { CashewError, type ErrorCode } from '../../protocol/index.ts';
import type { TokenOptions } from '../options.ts';
import { isAlgorithm, type Algorithm } from './algorithms.ts';
import { prepareKeys, type PreparedKeys } from './keys.ts';

export type Claims = Readonly<Record<string, unknown>>;

export interface TokenVerifier {
  /** Resolves with the verified claims or rejects with a CashewError (ERR_TOKEN_*, ERR_JWKS_*). */
  verify(token: string): Promise<Claims>;
  readonly keys: PreparedKeys;
}

interface Header {
  readonly alg: unknown;
  readonly kid: unknown;
}

function decodeSegment(segment: string | undefined): unknown {
  if (segment === undefined || segment === '') return undefined;
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function headerOf(token: string): Header {
  const parts = token.split('.');
  const header = decodeSegment(parts[0]);
  if (parts.length !== 3 || !isRecord(header) || !isRecord(decodeSegment(parts[1]))) {
    throw new CashewError('ERR_TOKEN_MALFORMED');
  }
  return { alg: header.alg, kid: header.kid };
}

/** jsonwebtoken reports errors by class and message only; this is the one place that reads them. */
function fromJsonWebTokenError(error: unknown): CashewError {
  if (error instanceof CashewError) return error;
  if (error instanceof jwt.TokenExpiredError)
    return new CashewError('ERR_TOKEN_EXPIRED', undefined, { cause: error });
  if (error instanceof jwt.NotBeforeError)
    return new CashewError('ERR_TOKEN_NOT_YET_VALID', undefined, { cause: error });
  const message = error instanceof Error ? error.message : '';
  let code: ErrorCode = 'ERR_TOKEN_SIGNATURE';
  if (/^jwt (audience|issuer|subject|id) invalid|^invalid (exp|nbf) value/.test(message))
    code = 'ERR_TOKEN_CLAIM';
  else if (/malformed|invalid token|signature is required/.test(message)) code = 'ERR_TOKEN_MALFORMED';
  else if (/algorithm|asymmetric|symmetric|secretOrPublicKey/.test(message)) code = 'ERR_TOKEN_ALGORITHM';
  return new CashewError(code, undefined, { cause: error });
}

function audienceMatches(aud: unknown, expected: string): boolean {
  return aud === expected || (Array.isArray(aud) && aud.includes(expected));
}

/** The claim checks for the EdDSA path (jsonwebtoken does the same for the other algorithms). */
function checkRegisteredClaims(claims: Claims, options: TokenOptions, nowSec: number): void {
  const skew = options.clockToleranceSec;
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

function verifyEdDSA(token: string, key: KeyObject, options: TokenOptions): Claims {
  const [header = '', payload = '', signature = ''] = token.split('.');
  const signed = Buffer.from(`${header}.${payload}`);
  const type = key.asymmetricKeyType;
  if (type !== 'ed25519' && type !== 'ed448') {
    throw new CashewError(
      'ERR_TOKEN_ALGORITHM',
      `an EdDSA token cannot be verified with a ${type ?? 'secret'} key`,
    );
  }
  let valid = false;
  try {
    valid = verifySignature(null, signed, key, Buffer.from(signature, 'base64url'));
  } catch (cause) {
    throw new CashewError('ERR_TOKEN_ALGORITHM', 'the key cannot verify EdDSA', { cause });
  }
  if (!valid) throw new CashewError('ERR_TOKEN_SIGNATURE');
  const claims = decodeSegment(payload) as Claims;
  checkRegisteredClaims(claims, options, Math.floor(Date.now() / 1000));
  return claims;
}

export async function createTokenVerifier(options: TokenOptions): Promise<TokenVerifier> {
  const keys = await prepareKeys(options);
  const algorithms = [...options.algorithms] as Exclude<Algorithm, 'EdDSA'>[];
  const jwtOptions: jwt.VerifyOptions = {
    algorithms,
    clockTolerance: options.clockToleranceSec,
    ...(options.issuer !== undefined && { issuer: options.issuer }),
    ...(options.audience !== undefined && { audience: options.audience }),
  };

  async function verify(token: string): Promise<Claims> {
    if (token === '') throw new CashewError('ERR_TOKEN_MISSING');
    const header = headerOf(token);
    if (!isAlgorithm(header.alg) || !options.algorithms.includes(header.alg)) {
      throw new CashewError('ERR_TOKEN_ALGORITHM', `algorithm ${String(header.alg)} is not accepted`);
    }
    const key = await keys.resolve(header.alg, header.kid);
    let claims: Claims;
    if (header.alg === 'EdDSA') {
      claims = verifyEdDSA(token, key, options);
    } else {
      try {
        claims = jwt.verify(token, key, jwtOptions) as Claims;
      } catch (error) {
        throw fromJsonWebTokenError(error);
      }
    }
    if (typeof claims.exp !== 'number') throw new CashewError('ERR_TOKEN_CLAIM', 'the token has no exp');
    return claims;
  }

  return { verify, keys };
}
