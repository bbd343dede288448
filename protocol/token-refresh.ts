// The in-band token refresh on the wire (docs/protocol.md#token-refresh), shared by the broker, the
// SDK and the handler runtime. A client PUBLISHes `{ id, token }` on TOKEN_REFRESH_TOPIC over its open
// connection; the broker answers that connection alone, on TOKEN_REFRESH_REPLY_TOPIC, with
// `{ id, ok: true, expiresAt }` or `{ id, ok: false, error: { code, message } }`. Both topics begin
// with `$`: no wildcard matches them, nobody may subscribe to them, and nothing published on them is
// delivered to anyone or stored. Browser-safe: no Node built-ins.
import { CashewError, type ErrorCode } from './errors.ts';
import { isRecord } from './guards.ts';
import { isCatalogueCode, type Payload, type WireError } from './envelope.ts';

/** Where a client sends its new token (QoS 0 or 1; never retained, never delivered). */
export const TOKEN_REFRESH_TOPIC = '$cashew/refresh';
/** Where the broker answers, written straight to the connection that asked. */
export const TOKEN_REFRESH_REPLY_TOPIC = '$cashew/refresh/reply';

export interface TokenRefreshRequest {
  /** Chosen by the client; echoed in the answer. */
  readonly id: string;
  readonly token: string;
}

export type TokenRefreshReply =
  | { readonly id: string; readonly ok: true; readonly expiresAt: number }
  | { readonly id: string; readonly ok: false; readonly error: WireError };

function parse(payload: Payload): unknown {
  try {
    return JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export function encodeRefreshRequest(request: TokenRefreshRequest): string {
  return JSON.stringify(request);
}

/** The request in a PUBLISH on TOKEN_REFRESH_TOPIC; throws ERR_BAD_PAYLOAD for anything else. */
export function decodeRefreshRequest(payload: Payload): TokenRefreshRequest {
  const value = parse(payload);
  if (!isRecord(value) || typeof value.id !== 'string' || value.id.length > 64)
    throw new CashewError('ERR_BAD_PAYLOAD', 'a refresh request is { id, token }, id a string of 64 at most');
  if (typeof value.token !== 'string' || value.token === '')
    throw new CashewError('ERR_BAD_PAYLOAD', 'a refresh request carries the token as a string');
  return { id: value.id, token: value.token };
}

export function encodeRefreshReply(reply: TokenRefreshReply): string {
  return JSON.stringify(reply);
}

/** The broker's answer, or undefined when the payload is not one. */
export function decodeRefreshReply(payload: Payload): TokenRefreshReply | undefined {
  const value = parse(payload);
  if (!isRecord(value) || typeof value.id !== 'string') return undefined;
  if (value.ok === true && typeof value.expiresAt === 'number')
    return { id: value.id, ok: true, expiresAt: value.expiresAt };
  const error = value.error;
  if (value.ok === false && isRecord(error) && typeof error.code === 'string')
    return {
      id: value.id,
      ok: false,
      error: { code: error.code, message: typeof error.message === 'string' ? error.message : '' },
    };
  return undefined;
}

/** The typed error a refused refresh stands for on the client's side. */
export function refreshError(error: WireError): CashewError {
  const code: ErrorCode = isCatalogueCode(error.code) ? error.code : 'ERR_NOT_AUTHORIZED';
  return new CashewError(code, error.message === '' ? undefined : error.message);
}

/**
 * Refusals a new token cannot cure by itself: the same token source would be refused again. The
 * others (a rate, an unreachable JWKS, a malformed request) are worth another try later.
 */
export const PERMANENT_REFRESH_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'ERR_TOKEN_SIGNATURE',
  'ERR_TOKEN_ALGORITHM',
  'ERR_TOKEN_CLAIM',
  'ERR_IDENTITY_INVALID',
  'ERR_REFRESH_IDENTITY',
  'ERR_REFRESH_GRANTS',
]);
