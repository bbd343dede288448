// Where a handler process gets its tokens (docs/handlers.md#tokens): a static token (development),
// a token file re-read when it changes (a sidecar or a Kubernetes secret keeps it fresh), or the
// OAuth2 client-credentials grant against the identity provider's token endpoint (Auth0 M2M,
// docs/auth0.md). Each is a TokenSource: called before every (re)connect and every in-band refresh.
// A source that can never give a token rejects with ERR_TOKEN_SOURCE (the handler exits); one that is
// only unreachable for now rejects with ERR_OFFLINE (retried with backoff).
import { readFile, stat } from 'node:fs/promises';
import type { TokenSource } from '../client-sdk/connection.ts';
import { CashewError, isRecord } from '../protocol/index.ts';

export interface ClientCredentials {
  /** The IdP's token endpoint, e.g. `https://<tenant>.auth0.com/oauth/token`. */
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Auth0 requires the API identifier as `audience`. */
  readonly audience?: string;
  readonly scope?: string;
  /** How long one request to the endpoint may take (default 10 s). */
  readonly timeoutMs?: number;
}

export type TokenSourceConfig =
  | { readonly kind: 'static'; readonly token: string }
  | { readonly kind: 'file'; readonly path: string }
  | ({ readonly kind: 'client-credentials' } & ClientCredentials);

export const DEFAULT_TOKEN_ENDPOINT_TIMEOUT_MS = 10_000;

export function staticTokenSource(token: string): TokenSource {
  return () => token;
}

/** Reads the file again whenever its modification time or size changed; trims whitespace. */
export function fileTokenSource(path: string): TokenSource {
  let cached: { token: string; mtimeMs: number; size: number } | undefined;
  return async () => {
    let token: string;
    try {
      const info = await stat(path);
      if (cached !== undefined && cached.mtimeMs === info.mtimeMs && cached.size === info.size)
        return cached.token;
      token = (await readFile(path, 'utf8')).trim();
      cached = { token, mtimeMs: info.mtimeMs, size: info.size };
    } catch (error) {
      throw new CashewError('ERR_TOKEN_SOURCE', `token file ${path} cannot be read`, { cause: error });
    }
    if (token === '') throw new CashewError('ERR_TOKEN_SOURCE', `token file ${path} is empty`);
    return token;
  };
}

/**
 * The OAuth2 client-credentials grant (RFC 6749, 4.4), as Auth0 M2M applications use it. A token is
 * reused until half its lifetime (`expires_in`) has passed, so the refresh at two thirds and every
 * reconnect after that get a new one, and the IdP sees one request per half lifetime at most.
 */
export function clientCredentialsTokenSource(credentials: ClientCredentials): TokenSource {
  let cached: { token: string; renewAt: number } | undefined;
  return async () => {
    if (cached !== undefined && Date.now() < cached.renewAt) return cached.token;
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: credentials.clientId,
      client_secret: credentials.clientSecret,
      ...(credentials.audience !== undefined && { audience: credentials.audience }),
      ...(credentials.scope !== undefined && { scope: credentials.scope }),
    });
    let response: Response;
    try {
      response = await fetch(credentials.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
        signal: AbortSignal.timeout(credentials.timeoutMs ?? DEFAULT_TOKEN_ENDPOINT_TIMEOUT_MS),
      });
    } catch (error) {
      throw new CashewError('ERR_OFFLINE', `token endpoint ${credentials.tokenUrl} unreachable`, {
        cause: error,
      });
    }
    const answer: unknown = await response.json().catch(() => undefined);
    if (response.status >= 500 || response.status === 429)
      throw new CashewError('ERR_OFFLINE', `token endpoint answered HTTP ${response.status}`);
    const token = isRecord(answer) ? answer.access_token : undefined;
    if (!response.ok || typeof token !== 'string' || token === '') {
      const reason = isRecord(answer) && typeof answer.error === 'string' ? `: ${answer.error}` : '';
      throw new CashewError(
        'ERR_TOKEN_SOURCE',
        `token endpoint refused the client credentials of ${credentials.clientId} (HTTP ${response.status}${reason})`,
      );
    }
    const expiresIn = isRecord(answer) && typeof answer.expires_in === 'number' ? answer.expires_in : 0;
    cached = { token, renewAt: Date.now() + (expiresIn * 1000) / 2 };
    return token;
  };
}

export function createTokenSource(config: TokenSourceConfig): TokenSource {
  switch (config.kind) {
    case 'static':
      return staticTokenSource(config.token);
    case 'file':
      return fileTokenSource(config.path);
    case 'client-credentials':
      return clientCredentialsTokenSource(config);
  }
}

/** Names the source for logs and for the line a handler exits with. */
export function describeTokenSource(config: TokenSourceConfig): string {
  switch (config.kind) {
    case 'static':
      return 'CASHEW_TOKEN';
    case 'file':
      return `CASHEW_TOKEN_FILE ${config.path}`;
    case 'client-credentials':
      return `client credentials of ${config.clientId} at ${config.tokenUrl}`;
  }
}
