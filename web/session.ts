// Signing in: a dev token from the broker's own `POST /dev/token`, or a pasted one; and the words
// the page uses when the broker refuses a token or a token expires.
import { decodeClaims, isCashewError } from '../client-sdk/index.ts';

export interface DevToken {
  readonly token: string;
  readonly user: string;
  readonly expiresAt: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Asks the broker (same origin) for a dev token; throws with the endpoint's message when refused. */
export async function fetchDevToken(user: string, ttlSec: number, timeoutMs = 10_000): Promise<DevToken> {
  const response = await fetch('/dev/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, ttl: ttlSec }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body: unknown = await response.json().catch(() => undefined);
  if (response.status === 404)
    throw new Error('this broker has no dev token endpoint (production mode?): paste a token');
  if (!response.ok || !isRecord(body) || typeof body.token !== 'string') {
    const message =
      isRecord(body) && typeof body.message === 'string' ? body.message : `HTTP ${response.status}`;
    throw new Error(`no dev token: ${message}`);
  }
  return { token: body.token, user: String(body.user), expiresAt: String(body.expiresAt) };
}

/** When the token stops being valid (its `exp`), or undefined when it cannot be read. */
export function expiryOf(token: string): Date | undefined {
  try {
    const exp = decodeClaims(token).exp;
    return typeof exp === 'number' ? new Date(exp * 1000) : undefined;
  } catch {
    return undefined;
  }
}

export function isExpired(token: string, now = Date.now()): boolean {
  const expiry = expiryOf(token);
  return expiry !== undefined && expiry.getTime() <= now;
}

/** What the page says when connecting failed. */
export function explainConnectError(error: unknown): string {
  if (isCashewError(error)) {
    switch (error.code) {
      case 'ERR_NOT_AUTHORIZED':
        return 'The broker refused your token (not authorized). Sign in again with a valid token.';
      case 'ERR_BAD_PAYLOAD':
        return 'That is not a usable token (it names no valid user id). Sign in again.';
      case 'ERR_TIMEOUT':
        return 'The broker did not answer in time. Is it running?';
      default:
        return `Could not connect: ${error.message} (${error.code})`;
    }
  }
  return `Could not connect: ${error instanceof Error ? error.message : String(error)}`;
}

export function expiredMessage(token: string): string {
  const expiry = expiryOf(token);
  const at = expiry === undefined ? '' : ` at ${expiry.toLocaleTimeString()}`;
  return `Your token expired${at} and the broker closed the connection. Sign in again to continue.`;
}
