// One trusted key source with its rules: a secret, a PEM public key or a JWKS, the algorithms it may
// sign with, and the `iss`/`aud` its tokens must carry. fast-jwt verifies signature, `alg` (pinned),
// `crit` (RFC 7515 §4.1.11: an extension it does not understand is refused) and the dates; Cashew's
// claim rules follow (claims.ts). A token verified before by the same key is recalled, not verified
// again; its claims are checked at every use (token-cache.ts).
import { createDecoder } from 'fast-jwt';
import { CashewError, isRecord } from '../../protocol/index.ts';
import { checkClaims, type Claims } from './claims.ts';
import { RemoteKeySet } from './jwks.ts';
import { readPublicKey, signatureCheckFor, type SignatureCheck } from './keys.ts';
import { asCashewError } from './library-errors.ts';
import { VerifiedTokens, type CacheLookup } from './token-cache.ts';
import type { JwksTimings, TrustOptions } from './token-options.ts';

export interface Trust {
  /** Resolves with the verified claims or rejects with a CashewError (ERR_TOKEN_*, ERR_JWKS_*). */
  verify(token: string): Promise<Claims>;
  /** The JWKS, when keys come from one (fetched at start; tests count its fetches). */
  readonly keySet?: RemoteKeySet;
}

export interface TrustContext {
  /** `''` for the users' settings, `HANDLER_` for the handlers'. */
  readonly prefix: '' | 'HANDLER_';
  readonly clockToleranceSec: number;
  readonly jwks: JwksTimings;
  /** Told of every JWKS fetch's outcome (the metrics). */
  readonly onJwksFetch?: (outcome: 'ok' | 'error') => void;
  /** Verified tokens kept (`JWT_CACHE_SIZE`); 0: none. */
  readonly cacheSize: number;
  /** Told of every lookup in the verified-token cache (the metrics). */
  readonly onCacheLookup?: (result: CacheLookup) => void;
}

const decodeComplete = createDecoder({ complete: true }) as (token: string) => unknown;

/** The header of a token not verified yet (to find its `kid`); throws fast-jwt's error when malformed. */
function headerOf(token: string): Record<string, unknown> {
  const decoded = decodeComplete(token);
  return isRecord(decoded) && isRecord(decoded.header) ? decoded.header : {};
}

function claimsOf(payload: unknown): Claims {
  if (!isRecord(payload)) throw new CashewError('ERR_TOKEN_MALFORMED');
  return payload;
}

export async function createTrust(options: TrustOptions, context: TrustContext): Promise<Trust> {
  const { clockToleranceSec } = context;
  const finish = (payload: unknown): Claims => {
    const claims = claimsOf(payload);
    checkClaims(claims, options, clockToleranceSec, Math.floor(Date.now() / 1000));
    return claims;
  };
  const tokens = VerifiedTokens.create(context.cacheSize, clockToleranceSec, context.onCacheLookup);
  /** The claims of a token that `check` verifies: recalled when it verified it before, checked each time. */
  const verifiedBy = (check: SignatureCheck, token: string): Claims => {
    if (tokens === undefined) return finish(check(token));
    const digest = tokens.digest(token);
    const known = tokens.recall(digest, check);
    if (known !== undefined) return finish(known);
    const claims = finish(check(token));
    tokens.remember(digest, check, claims);
    return claims;
  };
  if (options.jwksUrl !== undefined) {
    const keySet = new RemoteKeySet({
      url: options.jwksUrl,
      setting: `${context.prefix}JWKS_URL`,
      algorithms: options.algorithms,
      clockToleranceSec,
      timings: context.jwks,
      ...(context.onJwksFetch !== undefined && { onFetch: context.onJwksFetch }),
    });
    return {
      keySet,
      async verify(token) {
        try {
          const header = headerOf(token);
          const check = await keySet.checkFor(header.kid, header.alg);
          return verifiedBy(check, token);
        } catch (error) {
          throw asCashewError(error);
        }
      },
    };
  }
  const key =
    options.secret ??
    (options.publicKeyPath === undefined
      ? undefined
      : await readPublicKey(`${context.prefix}JWT_PUBLIC_KEY`, options.publicKeyPath, options.algorithms));
  if (key === undefined) {
    throw new CashewError(
      'ERR_CONFIG_INVALID',
      `no JWT key configured: set ${context.prefix}JWT_SECRET, ${context.prefix}JWT_PUBLIC_KEY or ${context.prefix}JWKS_URL`,
    );
  }
  const check = signatureCheckFor(key, options.algorithms, clockToleranceSec);
  return {
    verify(token) {
      try {
        return Promise.resolve(verifiedBy(check, token));
      } catch (error) {
        return Promise.reject(asCashewError(error));
      }
    },
  };
}
