// The verification entry point: one call that takes the token (the MQTT password) and returns the
// Identity (with `expiresAt`) or rejects with a CashewError. The adapter calls it at CONNECT, and an
// in-band token refresh calls the same, so that both apply the same trust.
//
// One key source (no HANDLER_* set): it makes users and handlers, as decided by the claims. With
// handler trust configured, a token that carries a `handler` claim is verified against the handlers'
// key source only (its own secret/key/JWKS, issuer and audience), every other token against the
// users' only, and the users' key source never makes a handler.
import { createDecoder } from 'fast-jwt';
import { CashewError, isRecord } from '../../protocol/index.ts';
import { identityFromClaims, type Identity } from './identity.ts';
import type { RemoteKeySet } from './jwks.ts';
import type { CacheLookup } from './token-cache.ts';
import type { TokenOptions } from './token-options.ts';
import { createTrust, type Trust } from './trust.ts';

export interface TokenVerifier {
  /** The identity a token stands for, or a rejection with a CashewError (ERR_TOKEN_*, ERR_JWKS_*, ERR_IDENTITY_INVALID). */
  verify(token: string): Promise<Identity>;
  /** The JWKS of each trust that has one (fetched at start). */
  readonly keySets: readonly RemoteKeySet[];
}

const decodePayload = createDecoder() as (token: string) => unknown;

/** Whether an unverified token says it is a handler's (it is then verified by the handlers' trust only). */
function claimsHandler(token: string): boolean {
  try {
    const payload = decodePayload(token);
    return isRecord(payload) && payload.handler !== undefined;
  } catch {
    return false; // malformed: the users' trust refuses it with the precise code
  }
}

function asHandlerRefusal(error: unknown): never {
  if (error instanceof CashewError)
    throw new CashewError(error.code, `handler token (HANDLER_* trust): ${error.message}`, { cause: error });
  throw error;
}

/** What the metrics are told. */
export interface VerifierObservers {
  /** Every JWKS fetch's outcome. */
  readonly onJwksFetch?: (outcome: 'ok' | 'error') => void;
  /** Every lookup in the verified-token cache. */
  readonly onCacheLookup?: (result: CacheLookup) => void;
}

export async function createTokenVerifier(
  options: TokenOptions,
  observers: VerifierObservers = {},
): Promise<TokenVerifier> {
  const shared = {
    clockToleranceSec: options.clockToleranceSec,
    jwks: options.jwks,
    cacheSize: options.cacheSize,
    ...observers,
  };
  const users = await createTrust(options, { ...shared, prefix: '' });
  const handlers: Trust | undefined =
    options.handlers === undefined
      ? undefined
      : await createTrust(options.handlers, { ...shared, prefix: 'HANDLER_' });
  const { userClaim, clockToleranceSec } = options;

  async function verify(token: string): Promise<Identity> {
    if (token === '') throw new CashewError('ERR_TOKEN_MISSING');
    if (handlers === undefined)
      return identityFromClaims(await users.verify(token), userClaim, clockToleranceSec);
    if (claimsHandler(token)) {
      const claims = await handlers.verify(token).catch(asHandlerRefusal);
      return identityFromClaims(claims, userClaim, clockToleranceSec, 'handler');
    }
    return identityFromClaims(await users.verify(token), userClaim, clockToleranceSec, 'user');
  }

  const keySets = [users.keySet, handlers?.keySet].filter((set) => set !== undefined);
  return { verify, keySets };
}
