// fast-jwt's TokenError codes turned into Cashew's catalogue (protocol/errors.ts). The library's own
// message is kept as the reason (it says which claim, which header), its error as the cause.
import { CashewError, isRecord, type ErrorCode } from '../../protocol/index.ts';

const CODES: Readonly<Record<string, ErrorCode>> = {
  FAST_JWT_INVALID_TYPE: 'ERR_TOKEN_MALFORMED',
  FAST_JWT_MALFORMED: 'ERR_TOKEN_MALFORMED',
  FAST_JWT_INVALID_PAYLOAD: 'ERR_TOKEN_MALFORMED',
  FAST_JWT_MISSING_SIGNATURE: 'ERR_TOKEN_MALFORMED',
  FAST_JWT_INVALID_ALGORITHM: 'ERR_TOKEN_ALGORITHM',
  FAST_JWT_INVALID_KEY: 'ERR_TOKEN_ALGORITHM',
  FAST_JWT_INVALID_SIGNATURE: 'ERR_TOKEN_SIGNATURE',
  FAST_JWT_VERIFY_ERROR: 'ERR_TOKEN_SIGNATURE',
  FAST_JWT_EXPIRED: 'ERR_TOKEN_EXPIRED',
  FAST_JWT_INACTIVE: 'ERR_TOKEN_NOT_YET_VALID',
  FAST_JWT_INVALID_CLAIM_TYPE: 'ERR_TOKEN_CLAIM',
  FAST_JWT_INVALID_CLAIM_VALUE: 'ERR_TOKEN_CLAIM',
  FAST_JWT_MISSING_REQUIRED_CLAIM: 'ERR_TOKEN_CLAIM',
  FAST_JWT_INVALID_CRIT_HEADER: 'ERR_TOKEN_CRIT',
};

/** A CashewError for whatever a verification threw (a CashewError passes through unchanged). */
export function asCashewError(error: unknown): CashewError {
  if (error instanceof CashewError) return error;
  const code = isRecord(error) && typeof error.code === 'string' ? CODES[error.code] : undefined;
  // A bad signature says nothing more than that; Cashew's own words are what clients and runbooks match.
  const message =
    code === 'ERR_TOKEN_SIGNATURE'
      ? 'the token signature does not verify'
      : error instanceof Error
        ? error.message
        : undefined;
  return new CashewError(code ?? 'ERR_TOKEN_MALFORMED', message, { cause: error });
}
