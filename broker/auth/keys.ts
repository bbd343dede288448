// Verification keys are prepared once at start as KeyObjects: handing jsonwebtoken a PEM or a secret
// string re-parses it per token (measured: RS256 ~6x, HS256 ~20x slower; docs/security.md).
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { CashewError } from '../../protocol/index.ts';
import type { TokenOptions } from '../options.ts';
import { readSettingFile } from '../setting-files.ts';
import type { Algorithm } from './algorithms.ts';
import { RemoteKeySet } from './jwks.ts';

/** Finds the key for one token, from its header's `alg` and `kid`. */
export type KeyResolver = (alg: string, kid: unknown) => KeyObject | Promise<KeyObject>;

export interface PreparedKeys {
  readonly resolve: KeyResolver;
  /** The JWKS, when keys come from one (exposed for refresh at start and for tests). */
  readonly keySet?: RemoteKeySet;
}

/** The key types each asymmetric algorithm family verifies with. */
function keyTypesFor(alg: Algorithm): readonly string[] {
  if (alg.startsWith('RS')) return ['rsa'];
  if (alg.startsWith('PS')) return ['rsa', 'rsa-pss'];
  if (alg.startsWith('ES')) return ['ec'];
  if (alg === 'EdDSA') return ['ed25519', 'ed448'];
  return [];
}

/** A configured algorithm that the configured key cannot verify is a configuration error, named at start. */
function assertKeyFitsAlgorithms(key: KeyObject, algorithms: readonly Algorithm[]): void {
  const type = key.asymmetricKeyType ?? 'unknown';
  const misfit = algorithms.find((alg) => !keyTypesFor(alg).includes(type));
  if (misfit !== undefined) {
    throw new CashewError(
      'ERR_CONFIG_INVALID',
      `JWT_ALGORITHMS: ${misfit} cannot be verified with the ${type} key in JWT_PUBLIC_KEY`,
    );
  }
}

export async function prepareKeys(options: TokenOptions): Promise<PreparedKeys> {
  if (options.secret !== undefined) {
    const key = createSecretKey(Buffer.from(options.secret, 'utf8'));
    return { resolve: () => key };
  }
  if (options.publicKeyPath !== undefined) {
    const pem = (await readSettingFile('JWT_PUBLIC_KEY', options.publicKeyPath)).toString('utf8');
    let key: KeyObject;
    try {
      key = createPublicKey(pem);
    } catch (cause) {
      throw new CashewError(
        'ERR_CONFIG_INVALID',
        `JWT_PUBLIC_KEY: ${options.publicKeyPath} is not a PEM public key`,
        {
          cause,
        },
      );
    }
    assertKeyFitsAlgorithms(key, options.algorithms);
    return { resolve: () => key };
  }
  if (options.jwksUrl !== undefined) {
    const keySet = new RemoteKeySet({ url: options.jwksUrl, cooldownMs: options.jwksCooldownMs });
    return { resolve: (alg, kid) => keySet.keyFor(kid, alg), keySet };
  }
  throw new CashewError(
    'ERR_CONFIG_INVALID',
    'no JWT key configured: set JWT_SECRET, JWT_PUBLIC_KEY or JWKS_URL',
  );
}
