// A fixed key source (a secret or a PEM public key), prepared once at start: fast-jwt parses the key
// when the verifier is made, never per token (handing a library a PEM per token re-parses it).
import { createPublicKey, type KeyObject } from 'node:crypto';
import { createVerifier } from 'fast-jwt';
import { CashewError } from '../../protocol/index.ts';
import { readSettingFile } from '../setting-files.ts';
import type { Algorithm } from './algorithms.ts';
import { algorithmsFitting, keyTypeOf } from './key-fit.ts';

/** Verifies one token's signature, `alg` and dates (fast-jwt, synchronous); throws fast-jwt's TokenError. */
export type SignatureCheck = (token: string) => unknown;

/** A fast-jwt verifier pinned to `algorithms`, for a secret or a PEM public key. */
export function signatureCheckFor(
  key: string,
  algorithms: readonly Algorithm[],
  clockToleranceSec: number,
): SignatureCheck {
  return createVerifier({
    key,
    algorithms: [...algorithms],
    clockTolerance: clockToleranceSec * 1000,
    cache: false,
  });
}

/** The PEM of `JWT_PUBLIC_KEY`/`HANDLER_JWT_PUBLIC_KEY`, each configured algorithm checked against its type. */
export async function readPublicKey(
  setting: 'JWT_PUBLIC_KEY' | 'HANDLER_JWT_PUBLIC_KEY',
  path: string,
  algorithms: readonly Algorithm[],
): Promise<string> {
  const pem = (await readSettingFile(setting, path)).toString('utf8');
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (cause) {
    throw new CashewError('ERR_CONFIG_INVALID', `${setting}: ${path} is not a PEM public key`, { cause });
  }
  const fitting = algorithmsFitting(key, algorithms);
  const misfit = algorithms.find((alg) => !fitting.includes(alg));
  if (misfit !== undefined) {
    const algorithmsSetting = setting === 'JWT_PUBLIC_KEY' ? 'JWT_ALGORITHMS' : 'HANDLER_JWT_ALGORITHMS';
    throw new CashewError(
      'ERR_CONFIG_INVALID',
      `${algorithmsSetting}: ${misfit} cannot be verified with the ${keyTypeOf(key)} key in ${setting}`,
    );
  }
  // SPKI PEM for fast-jwt, also when the file held a certificate
  return key.export({ type: 'spki', format: 'pem' }).toString();
}
