// TODAY'S CODE, kept for the token benchmark only (bench/tokens.ts): the hand-written JWS verification
// Cashew used until fast-jwt replaced it (broker/auth/signature.ts and the decode/claims part of
// broker/auth/verify.ts at commit 01a53cf), reduced to a fixed key (secret or PEM). Not used by the broker.
import {
  constants,
  createHmac,
  createPublicKey,
  createSecretKey,
  timingSafeEqual,
  verify as verifyWithKey,
  type KeyObject,
  type VerifyKeyObjectInput,
} from 'node:crypto';
import { CashewError, isRecord } from '../../protocol/index.ts';
import { isAlgorithm, type Algorithm } from '../../broker/auth/algorithms.ts';
import type { Claims } from '../../broker/auth/claims.ts';
import type { TrustOptions } from '../../broker/auth/token-options.ts';
type Digest = 'sha256' | 'sha384' | 'sha512';

interface Scheme {
  readonly family: 'HS' | 'RS' | 'PS' | 'ES' | 'EdDSA';
  readonly digest: Digest | null;
  /** Key types (KeyObject.asymmetricKeyType) that may verify it; `secret` for HMAC. */
  readonly keyTypes: readonly string[];
  /** ES only: the curve the key must be on. */
  readonly curve?: string;
}

const SCHEMES: Record<Algorithm, Scheme> = {
  HS256: { family: 'HS', digest: 'sha256', keyTypes: ['secret'] },
  HS384: { family: 'HS', digest: 'sha384', keyTypes: ['secret'] },
  HS512: { family: 'HS', digest: 'sha512', keyTypes: ['secret'] },
  RS256: { family: 'RS', digest: 'sha256', keyTypes: ['rsa'] },
  RS384: { family: 'RS', digest: 'sha384', keyTypes: ['rsa'] },
  RS512: { family: 'RS', digest: 'sha512', keyTypes: ['rsa'] },
  PS256: { family: 'PS', digest: 'sha256', keyTypes: ['rsa', 'rsa-pss'] },
  PS384: { family: 'PS', digest: 'sha384', keyTypes: ['rsa', 'rsa-pss'] },
  PS512: { family: 'PS', digest: 'sha512', keyTypes: ['rsa', 'rsa-pss'] },
  ES256: { family: 'ES', digest: 'sha256', keyTypes: ['ec'], curve: 'prime256v1' },
  ES384: { family: 'ES', digest: 'sha384', keyTypes: ['ec'], curve: 'secp384r1' },
  ES512: { family: 'ES', digest: 'sha512', keyTypes: ['ec'], curve: 'secp521r1' },
  EdDSA: { family: 'EdDSA', digest: null, keyTypes: ['ed25519', 'ed448'] },
};

function keyTypeOf(key: KeyObject): string {
  return key.type === 'secret' ? 'secret' : (key.asymmetricKeyType ?? 'unknown');
}

function assertKeyFits(alg: Algorithm, scheme: Scheme, key: KeyObject): void {
  const type = keyTypeOf(key);
  if (!scheme.keyTypes.includes(type)) {
    throw new CashewError('ERR_TOKEN_ALGORITHM', `a ${alg} token cannot be verified with a ${type} key`);
  }
  if (scheme.curve !== undefined && key.asymmetricKeyDetails?.namedCurve !== scheme.curve) {
    throw new CashewError('ERR_TOKEN_ALGORITHM', `a ${alg} token needs a key on ${scheme.curve}`);
  }
}

/**
 * Whether `signature` (base64url, already decoded) signs `signingInput` (`<header>.<payload>`) under
 * `alg` with `key`. Throws ERR_TOKEN_ALGORITHM when the key does not fit the algorithm.
 */
function verifyJwsSignature(
  alg: Algorithm,
  key: KeyObject,
  signingInput: string,
  signature: Buffer,
): boolean {
  const scheme = SCHEMES[alg];
  assertKeyFits(alg, scheme, key);
  if (scheme.family === 'HS') {
    const expected = createHmac(scheme.digest as Digest, key)
      .update(signingInput)
      .digest();
    return expected.length === signature.length && timingSafeEqual(expected, signature);
  }
  const data = Buffer.from(signingInput);
  let input: VerifyKeyObjectInput | KeyObject = key;
  if (scheme.family === 'PS') {
    input = { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
  } else if (scheme.family === 'ES') {
    input = { key, dsaEncoding: 'ieee-p1363' };
  }
  try {
    return verifyWithKey(scheme.digest, data, input, signature);
  } catch {
    return false; // e.g. an ECDSA signature of the wrong length
  }
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
type BaselineOptions = Pick<TrustOptions, 'algorithms' | 'issuer' | 'audience'> & {
  clockToleranceSec: number;
};

function checkRegisteredClaims(claims: Claims, options: BaselineOptions, nowSec: number): void {
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

/** The hand-written verifier on a fixed key: claims, or a CashewError. */
export function handwrittenVerifier(key: string, options: BaselineOptions): (token: string) => Claims {
  const keyObject: KeyObject = key.includes('-----BEGIN')
    ? createPublicKey(key)
    : createSecretKey(Buffer.from(key, 'utf8'));
  return (token) => {
    if (token === '') throw new CashewError('ERR_TOKEN_MISSING');
    const { header, claims, signingInput, signature } = decode(token);
    const { alg } = header;
    if (!isAlgorithm(alg) || !options.algorithms.includes(alg)) {
      throw new CashewError('ERR_TOKEN_ALGORITHM', `algorithm ${String(alg)} is not accepted`);
    }
    if (signature.length === 0) throw new CashewError('ERR_TOKEN_MALFORMED', 'the token has no signature');
    if (!verifyJwsSignature(alg, keyObject, signingInput, signature))
      throw new CashewError('ERR_TOKEN_SIGNATURE');
    checkRegisteredClaims(claims, options, Math.floor(Date.now() / 1000));
    if (typeof claims.exp !== 'number') throw new CashewError('ERR_TOKEN_CLAIM', 'the token has no exp');
    return claims;
  };
}
