// Who a connection is, decided once from the verified claims: a user (a device) or a handler.
import {
  CashewError,
  GRANT_ALL,
  HANDLER_CLIENT_ID_PREFIX,
  isRecord,
  isValidName,
  isValidUserId,
} from '../../protocol/index.ts';
import type { Claims } from './claims.ts';

/** An explicit grant of every command or event (`GRANT_ALL`). Nothing is granted by omission. */
export type Grant = ReadonlySet<string> | typeof GRANT_ALL;

/** What bans and revocations match besides the identity (broker/bans/): the token's `jti` and `iat`. */
export interface TokenFacts {
  readonly jti?: string;
  /** The token's `iat`, seconds since the epoch. */
  readonly issuedAtSec?: number;
}

export interface UserIdentity extends TokenFacts {
  readonly role: 'user';
  readonly userId: string;
  /** `<userId>/`, kept so the per-message check is one `startsWith`. */
  readonly partitionPrefix: string;
  /** When the token stops being valid, ms since the epoch (exp + clock tolerance). */
  readonly expiresAt: number;
}

export interface HandlerIdentity extends TokenFacts {
  readonly role: 'handler';
  readonly name: string;
  readonly commands: Grant;
  readonly events: Grant;
  /** Receives users' presence events: only with `"presence": true` in the handler claim. */
  readonly presence?: true;
  readonly expiresAt: number;
}

export type Identity = UserIdentity | HandlerIdentity;

function grantOf(value: unknown, what: string): Grant {
  if (value === undefined) return new Set();
  if (!Array.isArray(value))
    throw new CashewError('ERR_IDENTITY_INVALID', `handler.${what} must be an array`);
  if (value.includes(GRANT_ALL)) return GRANT_ALL;
  for (const name of value) {
    if (!isValidName(name)) {
      throw new CashewError(
        'ERR_IDENTITY_INVALID',
        `handler.${what} has an invalid name ${JSON.stringify(name)}`,
      );
    }
  }
  return new Set(value as string[]);
}

/** A user id may come as a string or an integer claim (`"68946"` or `68946`). */
function userIdOf(claim: unknown): string | undefined {
  const id = typeof claim === 'number' && Number.isSafeInteger(claim) ? String(claim) : claim;
  return isValidUserId(id) ? id : undefined;
}

/**
 * What a verified token may make: `any` role (one key source for users and handlers, the default), or
 * only the role of the key source that verified it (handler trust configured, broker/auth/verify.ts).
 */
export type TrustedRole = 'any' | 'user' | 'handler';

/** The identity a token stands for; throws ERR_IDENTITY_INVALID when it names none (or not `role`). */
export function identityFromClaims(
  claims: Claims,
  userClaim: string,
  clockToleranceSec: number,
  role: TrustedRole = 'any',
): Identity {
  const expiresAt = ((claims.exp as number) + clockToleranceSec) * 1000;
  const { jti, iat } = claims;
  const facts: TokenFacts = {
    ...(typeof jti === 'string' && { jti }),
    ...(typeof iat === 'number' && Number.isFinite(iat) && { issuedAtSec: iat }),
  };
  if (role === 'user' && claims.handler !== undefined) {
    throw new CashewError(
      'ERR_IDENTITY_INVALID',
      'a handler claim in a token of the users key source (handlers are trusted through HANDLER_*)',
    );
  }
  if (role === 'handler' && claims.handler === undefined) {
    throw new CashewError(
      'ERR_IDENTITY_INVALID',
      'a token of the handlers key source without a handler claim',
    );
  }
  if (claims.handler !== undefined) {
    const handler = claims.handler;
    if (!isRecord(handler) || !isValidName(handler.name)) {
      throw new CashewError('ERR_IDENTITY_INVALID', 'the handler claim needs a valid name');
    }
    if (handler.presence !== undefined && typeof handler.presence !== 'boolean')
      throw new CashewError('ERR_IDENTITY_INVALID', 'handler.presence must be true or false');
    return {
      role: 'handler',
      name: handler.name,
      commands: grantOf(handler.commands, 'commands'),
      events: grantOf(handler.events, 'events'),
      ...(handler.presence === true && { presence: true }),
      expiresAt,
      ...facts,
    };
  }
  const userId = userIdOf(claims[userClaim]);
  if (userId === undefined) {
    throw new CashewError('ERR_IDENTITY_INVALID', `claim ${userClaim} is not a valid user id`);
  }
  return { role: 'user', userId, partitionPrefix: `${userId}/`, expiresAt, ...facts };
}

/** A short label for logs: `user:68946`, `handler:ping`. */
export function describeIdentity(identity: Identity): string {
  return identity.role === 'user' ? `user:${identity.userId}` : `handler:${identity.name}`;
}

/**
 * Client ids are bound to identities so that no one can take over another's session:
 * a user's is `<userId>` or `<userId>/<suffix>`; a handler's `$handler/<name>` or `$handler/<name>/<suffix>`.
 */
export function clientIdBelongsTo(identity: Identity, clientId: string): boolean {
  const owner = identity.role === 'user' ? identity.userId : HANDLER_CLIENT_ID_PREFIX + identity.name;
  return (
    clientId === owner || (clientId.startsWith(owner) && clientId.charCodeAt(owner.length) === 47) /* / */
  );
}

/** The client id a client should use for an identity, with an optional per-device suffix. */
export function clientIdFor(identity: Identity, suffix?: string): string {
  const owner = identity.role === 'user' ? identity.userId : HANDLER_CLIENT_ID_PREFIX + identity.name;
  return suffix === undefined || suffix === '' ? owner : `${owner}/${suffix}`;
}
