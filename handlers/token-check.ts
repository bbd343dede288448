// Why the broker refused a handler's token, told from the token itself where it can be: the broker's
// CONNACK says only "not authorized" (MQTT 3.1.1 has no reason), so a handler that would otherwise
// retry forever says once what is wrong — expired, for another handler, no handler at all — or, when
// the token looks right, that the broker does not accept its signature (or algorithm, iss, aud).
import { decodeClaims } from '../client-sdk/jwt-claims.ts';
import { CashewError, isRecord } from '../protocol/index.ts';

/** A problem the token shows by itself for handler `name`; undefined when it looks right. */
export function explainHandlerToken(token: string, name: string): CashewError | undefined {
  let claims: Record<string, unknown>;
  try {
    claims = decodeClaims(token);
  } catch (error) {
    return new CashewError('ERR_TOKEN_MALFORMED', 'the handler token is not a JWT', { cause: error });
  }
  const handler = claims.handler;
  if (!isRecord(handler))
    return new CashewError('ERR_IDENTITY_INVALID', 'the token has no handler claim (is it a user token?)');
  if (handler.name !== name)
    return new CashewError(
      'ERR_CLIENT_ID_MISMATCH',
      `the token is for handler ${JSON.stringify(handler.name)}, this process runs handler ${JSON.stringify(name)}`,
    );
  if (typeof claims.exp === 'number' && claims.exp * 1000 <= Date.now())
    return new CashewError(
      'ERR_TOKEN_EXPIRED',
      `the handler token expired at ${new Date(claims.exp * 1000).toISOString()}`,
    );
  return undefined;
}

/** The error a refused CONNECT of handler `name` stands for, explained by the token it tried. */
export function handlerRefusal(token: string | undefined, name: string, refusal: CashewError): CashewError {
  const explained = token === undefined ? undefined : explainHandlerToken(token, name);
  return (
    explained ??
    new CashewError(
      'ERR_NOT_AUTHORIZED',
      `the broker refused the handler token (${refusal.message}): a bad signature, or an algorithm, issuer or audience it does not accept`,
      { cause: refusal },
    )
  );
}
