// Cashew's own claim rules, applied after the library verified the signature and the dates:
// `exp` is required (a connection is closed at it), and `iss`/`aud` refusals say what was expected.
import { CashewError } from '../../protocol/index.ts';
import type { TrustOptions } from './token-options.ts';

export type Claims = Readonly<Record<string, unknown>>;

function shown(value: unknown): string {
  return value === undefined ? 'none' : JSON.stringify(value);
}

function audienceMatches(aud: unknown, expected: string): boolean {
  return aud === expected || (Array.isArray(aud) && aud.includes(expected));
}

/**
 * `exp` must be a number and the clock strictly before it (RFC 7519 §4.1.4; fast-jwt also accepts
 * the exact second), `nbf` likewise; then `iss` and `aud` against the trust that verified the token.
 */
export function checkClaims(
  claims: Claims,
  trust: Pick<TrustOptions, 'issuer' | 'audience'>,
  clockToleranceSec: number,
  nowSec: number,
): void {
  if (typeof claims.exp !== 'number')
    throw new CashewError('ERR_TOKEN_CLAIM', 'the token has no numeric exp');
  if (nowSec >= claims.exp + clockToleranceSec) throw new CashewError('ERR_TOKEN_EXPIRED');
  if (typeof claims.nbf === 'number' && nowSec + clockToleranceSec < claims.nbf)
    throw new CashewError('ERR_TOKEN_NOT_YET_VALID');
  if (trust.issuer !== undefined && claims.iss !== trust.issuer) {
    throw new CashewError('ERR_TOKEN_CLAIM', `iss expected ${shown(trust.issuer)}, got ${shown(claims.iss)}`);
  }
  if (trust.audience !== undefined && !audienceMatches(claims.aud, trust.audience)) {
    throw new CashewError(
      'ERR_TOKEN_CLAIM',
      `aud expected ${shown(trust.audience)}, got ${shown(claims.aud)}`,
    );
  }
}
