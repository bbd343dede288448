// JWS signature verification with node:crypto and keys prepared once (KeyObjects). This is the
// connect hot path: jsonwebtoken (jws + jwa) decoded every token a second time and converted ECDSA
// signatures in JavaScript, ~40 µs per token on top of the cryptography itself (docs/performance.md).
// The checks jsonwebtoken made before the signature are kept: the key type must fit the algorithm
// (never a public key as an HMAC secret, never a secret for RS/PS/ES/EdDSA) and the EC curve must be
// the algorithm's.
import {
  constants,
  createHmac,
  timingSafeEqual,
  verify as verifyWithKey,
  type KeyObject,
  type VerifyKeyObjectInput,
} from 'node:crypto';
import { CashewError } from '../../protocol/index.ts';
import type { Algorithm } from './algorithms.ts';

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
export function verifyJwsSignature(
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
