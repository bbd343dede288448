// One catalogue of error codes for the whole of Cashew. docs/errors.md lists every code;
// test/unit/error-catalogue.test.ts keeps the two in sync.

export const ERROR_CODES = {
  // configuration
  ERR_CONFIG_INVALID: 'a setting has an invalid value',
  ERR_START_FAILED: 'a valid setting could not be put to use at start (port in use, Redis unreachable)',
  // tokens (CONNECT refused with return code 4 or 5)
  ERR_TOKEN_MISSING: 'no token in the MQTT password',
  ERR_TOKEN_MALFORMED: 'the password is not a well-formed JWT',
  ERR_TOKEN_ALGORITHM: 'the token algorithm is not one of the configured algorithms',
  ERR_TOKEN_SIGNATURE: 'the token signature does not verify',
  ERR_TOKEN_EXPIRED: 'the token has expired',
  ERR_TOKEN_NOT_YET_VALID: 'the token is not valid yet (nbf)',
  ERR_TOKEN_CLAIM: 'a claim (iss, aud, exp) does not match the configuration',
  ERR_TOKEN_CRIT: 'the token header lists a critical extension (crit) that Cashew does not understand',
  ERR_JWKS_NO_MATCHING_KEY: 'no key in the JWKS matches the token kid',
  ERR_JWKS_UNAVAILABLE: 'the JWKS could not be fetched',
  // identity (CONNECT refused)
  ERR_IDENTITY_INVALID: 'the token names no valid user id or handler',
  ERR_CLIENT_ID_MISMATCH: 'the client id is not bound to the token identity',
  ERR_WILL_NOT_AUTHORIZED: 'the will topic is outside what the identity may publish',
  // authorization (SUBACK 0x80, publish dropped)
  ERR_SUBSCRIBE_NOT_AUTHORIZED: 'the identity may not subscribe to this filter',
  ERR_PUBLISH_NOT_AUTHORIZED: 'the identity may not publish to this topic',
  ERR_TOPIC_TOO_LONG: 'the topic or filter has more characters or levels than allowed',
  ERR_TOO_MANY_SUBSCRIPTIONS: 'the connection holds the most subscriptions allowed',
  ERR_PUBLISH_RATE: 'the connection publishes faster than its publish rate',
  ERR_QUEUE_FULL: 'the persistent session queued the most messages allowed; the oldest were dropped',
  ERR_SESSION_EXPIRED: 'the persistent session was unused for longer than the session expiry',
  ERR_TOO_MANY_SESSIONS:
    'the user holds the most persistent sessions allowed; the one away longest was removed',
  ERR_RETAINED_LIMIT: 'the partition holds the most retained messages or bytes allowed',
  // session
  ERR_TOKEN_EXPIRED_SESSION: 'the connection was closed because its token expired',
  // in-band token refresh (answered on $cashew/refresh/reply; the old expiry stays in force)
  ERR_REFRESH_IDENTITY: 'the refreshed token names another user or handler than the connection',
  ERR_REFRESH_GRANTS: 'the refreshed handler token grants a command or event the connection did not have',
  ERR_REFRESH_RATE: 'the connection asks for token refreshes faster than allowed',
  // token sources (handlers)
  ERR_TOKEN_SOURCE: 'the token source gave no usable token (token file, OAuth2 token endpoint)',
  // limits (connection closed)
  ERR_PACKET_TOO_LARGE: 'a packet is larger than the maximum packet size',
  ERR_HANDSHAKE_TIMEOUT: 'the TLS handshake or the WebSocket upgrade did not finish in time',
  ERR_SLOW_CONSUMER:
    'the client did not read what was sent to it: more than the outgoing buffer limit waited',
  ERR_TOO_MANY_FILTERS: 'a SUBSCRIBE packet carries more filters than allowed',
  // limits (CONNECT refused with return code 3)
  ERR_CONNECT_RATE: 'too many CONNECTs from one source address',
  ERR_FLAPPING: 'the client id reconnects in a loop and is refused for a while',
  ERR_TOO_MANY_CONNECTIONS: 'the broker or the user holds the most connections allowed',
  ERR_REDIS_UNAVAILABLE:
    'Redis, through which the cluster shares sessions and messages, is away or not answering',
  // bans and revocations (CONNECT refused with return code 5, or the live connection closed)
  ERR_BANNED: 'the user, client id or source address is banned by an operator',
  ERR_TOKEN_REVOKED:
    'the token was revoked by an operator (its jti, or every token of the user issued before a time)',
  ERR_KICKED: 'the connection was closed by an operator',
  // admin API (JSON errors on the admin listener)
  ERR_ADMIN_UNAUTHORIZED: 'the admin request has no valid bearer token',
  ERR_ADMIN_BAD_REQUEST: 'the admin request is malformed or names an invalid value',
  ERR_ADMIN_NOT_FOUND: 'no such admin route or entry',
  ERR_TOO_MANY_BANS: 'the ban list holds BANS_MAX entries in force',
  // request/response (SDK and handlers)
  ERR_TIMEOUT: 'no reply arrived within the timeout',
  ERR_OFFLINE: 'the client is not connected and was asked not to queue',
  ERR_NOT_AUTHORIZED: 'the broker refused the connection or subscription',
  ERR_HANDLER: 'the handler failed the command',
  ERR_CLOSED: 'the client was closed',
  ERR_BAD_PAYLOAD: 'a message payload could not be decoded',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The base of every Cashew error: a stable `code`, a `name`, and the `cause` kept. */
export class CashewError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string = ERROR_CODES[code], options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'CashewError';
  }
}

export function isCashewError(value: unknown): value is CashewError {
  return value instanceof CashewError;
}
