// MQTT 3.1.1 codes Cashew answers with, and the one mapping from error codes to CONNACK return codes.
import type { ErrorCode } from '../../protocol/index.ts';

/** MQTT 3.1.1 CONNACK return codes. */
export const RETURN_CODES = {
  IDENTIFIER_REJECTED: 2,
  SERVER_UNAVAILABLE: 3,
  BAD_USERNAME_OR_PASSWORD: 4,
  NOT_AUTHORIZED: 5,
} as const;

export type ReturnCode = (typeof RETURN_CODES)[keyof typeof RETURN_CODES];

/** The SUBACK return code of a refused filter (MQTT 3.1.1, 3.9.3). */
export const SUBACK_FAILURE = 0x80;

/** A refused publish is acknowledged (MQTT-3.3.5-2) and re-routed here, where nobody can subscribe. */
export const REFUSED_TOPIC = '$cashew/refused';

/** The CONNACK return code of a refused CONNECT. */
export function returnCodeOf(code: ErrorCode): ReturnCode {
  switch (code) {
    case 'ERR_TOKEN_MISSING':
      return RETURN_CODES.BAD_USERNAME_OR_PASSWORD;
    case 'ERR_CLIENT_ID_MISMATCH':
      return RETURN_CODES.IDENTIFIER_REJECTED;
    case 'ERR_JWKS_UNAVAILABLE':
    case 'ERR_REDIS_UNAVAILABLE':
    case 'ERR_CONNECT_RATE':
    case 'ERR_FLAPPING':
    case 'ERR_TOO_MANY_CONNECTIONS':
      return RETURN_CODES.SERVER_UNAVAILABLE;
    default:
      return RETURN_CODES.NOT_AUTHORIZED;
  }
}
