// Which token source `cashew handler` uses, from its environment (docs/handlers.md#tokens): one of
// CASHEW_TOKEN (static), CASHEW_TOKEN_FILE (re-read on change), or CASHEW_TOKEN_URL with
// CASHEW_CLIENT_ID and CASHEW_CLIENT_SECRET (OAuth2 client credentials; CASHEW_TOKEN_AUDIENCE and
// CASHEW_TOKEN_SCOPE optional). Undefined when none is set (dev mode signs its own).
import type { TokenSourceConfig } from '../handlers/token-source.ts';
import { CashewError } from '../protocol/index.ts';

export const HANDLER_TOKEN_ENV = [
  'CASHEW_TOKEN',
  'CASHEW_TOKEN_FILE',
  'CASHEW_TOKEN_URL',
  'CASHEW_CLIENT_ID',
  'CASHEW_CLIENT_SECRET',
  'CASHEW_TOKEN_AUDIENCE',
  'CASHEW_TOKEN_SCOPE',
] as const;

function set(env: NodeJS.ProcessEnv, name: (typeof HANDLER_TOKEN_ENV)[number]): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

export function tokenSourceFromEnv(env: NodeJS.ProcessEnv): TokenSourceConfig | undefined {
  const token = set(env, 'CASHEW_TOKEN');
  const path = set(env, 'CASHEW_TOKEN_FILE');
  const tokenUrl = set(env, 'CASHEW_TOKEN_URL');
  const given = [token, path, tokenUrl].filter((value) => value !== undefined).length;
  if (given > 1)
    throw new CashewError(
      'ERR_CONFIG_INVALID',
      'CASHEW_TOKEN, CASHEW_TOKEN_FILE and CASHEW_TOKEN_URL are exclusive: set one',
    );
  if (token !== undefined) return { kind: 'static', token };
  if (path !== undefined) return { kind: 'file', path };
  if (tokenUrl === undefined) return undefined;
  if (!/^https?:\/\//.test(tokenUrl))
    throw new CashewError('ERR_CONFIG_INVALID', `CASHEW_TOKEN_URL=${tokenUrl} is not an http(s) URL`);
  const clientId = set(env, 'CASHEW_CLIENT_ID');
  const clientSecret = set(env, 'CASHEW_CLIENT_SECRET');
  if (clientId === undefined || clientSecret === undefined)
    throw new CashewError(
      'ERR_CONFIG_INVALID',
      'CASHEW_TOKEN_URL needs CASHEW_CLIENT_ID and CASHEW_CLIENT_SECRET',
    );
  const audience = set(env, 'CASHEW_TOKEN_AUDIENCE');
  const scope = set(env, 'CASHEW_TOKEN_SCOPE');
  return {
    kind: 'client-credentials',
    tokenUrl,
    clientId,
    clientSecret,
    ...(audience !== undefined && { audience }),
    ...(scope !== undefined && { scope }),
  };
}
