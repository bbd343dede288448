// Cashew's key pinning, kept in front of the library: which key types (and EC curves) may verify
// which algorithm. A public key is never an HMAC secret, a secret never verifies RS/PS/ES/EdDSA.
import type { KeyObject } from 'node:crypto';
import type { Algorithm } from './algorithms.ts';

interface KeyFit {
  /** KeyObject.asymmetricKeyType values, or `secret`. */
  readonly types: readonly string[];
  /** ES only: the curve the key must be on. */
  readonly curve?: string;
}

const FITS: Record<Algorithm, KeyFit> = {
  HS256: { types: ['secret'] },
  HS384: { types: ['secret'] },
  HS512: { types: ['secret'] },
  RS256: { types: ['rsa'] },
  RS384: { types: ['rsa'] },
  RS512: { types: ['rsa'] },
  PS256: { types: ['rsa', 'rsa-pss'] },
  PS384: { types: ['rsa', 'rsa-pss'] },
  PS512: { types: ['rsa', 'rsa-pss'] },
  ES256: { types: ['ec'], curve: 'prime256v1' },
  ES384: { types: ['ec'], curve: 'secp384r1' },
  ES512: { types: ['ec'], curve: 'secp521r1' },
  EdDSA: { types: ['ed25519', 'ed448'] },
};

/** `secret`, `rsa`, `ec P-256`…: how a key is named in refusals and start-up errors. */
export function keyTypeOf(key: KeyObject): string {
  if (key.type === 'secret') return 'secret';
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return `${key.asymmetricKeyType ?? 'unknown'}${curve === undefined ? '' : ` ${curve}`}`;
}

export function keyFits(key: KeyObject, alg: Algorithm): boolean {
  const fit = FITS[alg];
  const type = key.type === 'secret' ? 'secret' : (key.asymmetricKeyType ?? 'unknown');
  if (!fit.types.includes(type)) return false;
  return fit.curve === undefined || key.asymmetricKeyDetails?.namedCurve === fit.curve;
}

/** The algorithms of `algorithms` that `key` can verify. */
export function algorithmsFitting(key: KeyObject, algorithms: readonly Algorithm[]): Algorithm[] {
  return algorithms.filter((alg) => keyFits(key, alg));
}
