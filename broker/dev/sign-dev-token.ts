// Dev tokens: what an identity provider would issue, signed with the configured or dev HS secret.
import jwt from 'jsonwebtoken';

export type TokenSubject =
  | { readonly user: string }
  | {
      readonly handler: {
        readonly name: string;
        readonly commands: readonly string[];
        readonly events: readonly string[];
        /** Receives users' presence events. */
        readonly presence?: true;
      };
    };

export interface SignOptions {
  readonly secret: string;
  /** Lifetime in seconds (default: 1 hour for users, 30 days for handlers). */
  readonly ttlSec?: number;
  /** Claim that carries the user id (default `sub`). */
  readonly userClaim?: string;
  readonly issuer?: string;
  readonly audience?: string;
}

export const DEFAULT_USER_TOKEN_TTL_SEC = 3600;
export const DEFAULT_HANDLER_TOKEN_TTL_SEC = 30 * 24 * 3600;

export function signDevToken(subject: TokenSubject, options: SignOptions): string {
  const isUser = 'user' in subject;
  const claims: Record<string, unknown> = isUser
    ? { [options.userClaim ?? 'sub']: subject.user }
    : { sub: `handler:${subject.handler.name}`, handler: subject.handler };
  const ttl = options.ttlSec ?? (isUser ? DEFAULT_USER_TOKEN_TTL_SEC : DEFAULT_HANDLER_TOKEN_TTL_SEC);
  return jwt.sign(claims, options.secret, {
    algorithm: 'HS256',
    expiresIn: ttl,
    ...(options.issuer !== undefined && { issuer: options.issuer }),
    ...(options.audience !== undefined && { audience: options.audience }),
  });
}
