// The token settings, resolved and validated once at start (called from broker/options.ts): the
// users' key source, an optional separate key source for handlers (HANDLER_*), and the JWKS timings.
import { CashewError } from '../../protocol/index.ts';
import { ALGORITHMS, type Algorithm } from './algorithms.ts';
import { wholeSetting } from '../whole-setting.ts';

/** One key source and what a token from it must carry: who is trusted, and for what. */
export interface TrustOptions {
  /** Shared secret for HS256/384/512 (`JWT_SECRET` / `HANDLER_JWT_SECRET`). */
  secret?: string;
  /** Path to a PEM public key for RS/PS/ES/EdDSA (`JWT_PUBLIC_KEY` / `HANDLER_JWT_PUBLIC_KEY`). */
  publicKeyPath?: string;
  /** JWKS endpoint, keys looked up by `kid` (`JWKS_URL` / `HANDLER_JWKS_URL`). */
  jwksUrl?: string;
  /** Accepted algorithms; default HS256 with a secret, RS256 with a key or JWKS. */
  algorithms: readonly Algorithm[];
  /** Required `iss` (`JWT_ISSUER` / `HANDLER_JWT_ISSUER`). */
  issuer?: string;
  /** Required `aud` (`JWT_AUDIENCE` / `HANDLER_JWT_AUDIENCE`). */
  audience?: string;
}

export interface JwksTimings {
  /** Least time between two JWKS fetches caused by an unknown `kid`, ms (`JWKS_COOLDOWN_MS`, default 30 s). */
  readonly cooldownMs: number;
  /** A key is re-checked against the IdP's set after this long, ms (`JWKS_MAX_AGE_MS`, default 10 min). */
  readonly maxAgeMs: number;
  /** While the IdP is unreachable, the last good keys serve this long past their max age, ms (`JWKS_STALE_MS`, default 1 h). */
  readonly staleMs: number;
  /** First retry after a failed fetch, ms, doubling up to the cooldown (`JWKS_RETRY_MS`, default 1 s). */
  readonly retryMs: number;
}

export interface TokenOptions extends TrustOptions {
  /** Claim holding the user id (`JWT_USER_CLAIM`, default `sub`). */
  userClaim: string;
  /** Allowed clock skew for `exp`/`nbf`, in seconds (`JWT_CLOCK_TOLERANCE`, default 30). */
  clockToleranceSec: number;
  /** Same as `jwks.cooldownMs` (kept for readers of the users' settings). */
  jwksCooldownMs: number;
  jwks: JwksTimings;
  /** Verified tokens remembered per trust, so that a reconnect skips the signature check (`JWT_CACHE_SIZE`, default 10,000; 0: off). */
  cacheSize: number;
  /** Handlers' own key source (`HANDLER_*`): when set, only it makes handlers. Absent: one source for both. */
  handlers?: TrustOptions;
}

export const DEFAULT_USER_CLAIM = 'sub';
export const DEFAULT_CLOCK_TOLERANCE_SEC = 30;
export const DEFAULT_JWKS_COOLDOWN_MS = 30_000;
/** jose's and jwks-rsa's default cache age. */
export const DEFAULT_JWKS_MAX_AGE_MS = 600_000;
export const DEFAULT_JWKS_STALE_MS = 3_600_000;
export const DEFAULT_JWKS_RETRY_MS = 1_000;
/** A fleet of 10,000 devices reconnecting at once finds every token it used before (~190 B each, four claims). */
export const DEFAULT_JWT_CACHE_SIZE = 10_000;

/** The token settings, in the order docs/configuration.md lists them. */
export const TOKEN_SETTINGS = [
  'JWT_SECRET',
  'JWT_PUBLIC_KEY',
  'JWKS_URL',
  'JWKS_COOLDOWN_MS',
  'JWKS_MAX_AGE_MS',
  'JWKS_STALE_MS',
  'JWKS_RETRY_MS',
  'JWT_ALGORITHMS',
  'JWT_ISSUER',
  'JWT_AUDIENCE',
  'JWT_USER_CLAIM',
  'JWT_CLOCK_TOLERANCE',
  'JWT_CACHE_SIZE',
  'HANDLER_JWT_SECRET',
  'HANDLER_JWT_PUBLIC_KEY',
  'HANDLER_JWKS_URL',
  'HANDLER_JWT_ALGORITHMS',
  'HANDLER_JWT_ISSUER',
  'HANDLER_JWT_AUDIENCE',
] as const;
export type TokenSetting = (typeof TOKEN_SETTINGS)[number];
type TokenSettings = Partial<Record<TokenSetting, string>>;

function invalid(setting: TokenSetting, value: string, expected: string): CashewError {
  return new CashewError(
    'ERR_CONFIG_INVALID',
    `${setting}=${JSON.stringify(value)} is invalid: expected ${expected}`,
  );
}

function nonEmpty(settings: TokenSettings, name: TokenSetting): string | undefined {
  const raw = settings[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

function wholeNumber(settings: TokenSettings, name: TokenSetting, fallback: number, max: number): number {
  return wholeSetting(settings[name], name, fallback, 0, max);
}

/** The setting names of one trust: the users' (`JWT_*`, `JWKS_URL`) or the handlers' (`HANDLER_*`). */
function namesOf(prefix: '' | 'HANDLER_') {
  return {
    secret: `${prefix}JWT_SECRET`,
    publicKey: `${prefix}JWT_PUBLIC_KEY`,
    jwksUrl: `${prefix}JWKS_URL`,
    algorithms: `${prefix}JWT_ALGORITHMS`,
    issuer: `${prefix}JWT_ISSUER`,
    audience: `${prefix}JWT_AUDIENCE`,
  } as const satisfies Record<string, TokenSetting>;
}

function resolveTrust(settings: TokenSettings, prefix: '' | 'HANDLER_'): TrustOptions {
  const names = namesOf(prefix);
  const secret = nonEmpty(settings, names.secret);
  const publicKeyPath = nonEmpty(settings, names.publicKey);
  const jwksUrl = nonEmpty(settings, names.jwksUrl);
  const sources = [secret, publicKeyPath, jwksUrl].filter((s) => s !== undefined).length;
  if (sources > 1) {
    throw new CashewError(
      'ERR_CONFIG_INVALID',
      `${names.secret}, ${names.publicKey} and ${names.jwksUrl} are exclusive: set one`,
    );
  }
  if (jwksUrl !== undefined && !/^https?:\/\//.test(jwksUrl))
    throw invalid(names.jwksUrl, jwksUrl, 'an http(s) URL');
  if (secret !== undefined && secret.length < 32) {
    throw invalid(names.secret, '<hidden>', 'a secret of at least 32 characters');
  }
  const symmetric = secret !== undefined || sources === 0;
  const rawAlgorithms = nonEmpty(settings, names.algorithms);
  const algorithms =
    rawAlgorithms === undefined
      ? [symmetric ? 'HS256' : 'RS256']
      : rawAlgorithms
          .split(',')
          .map((alg) => alg.trim())
          .filter((alg) => alg !== '');
  if (algorithms.length === 0) throw invalid(names.algorithms, rawAlgorithms ?? '', 'at least one algorithm');
  for (const alg of algorithms) {
    if (!(ALGORITHMS as readonly string[]).includes(alg)) {
      throw invalid(
        names.algorithms,
        rawAlgorithms ?? '',
        `a list of ${ALGORITHMS.join(', ')} ('none' is never accepted)`,
      );
    }
    if (alg.startsWith('HS') !== symmetric) {
      throw invalid(
        names.algorithms,
        rawAlgorithms ?? '',
        symmetric
          ? `HS256/384/512 with ${names.secret}`
          : `asymmetric algorithms with ${names.publicKey} or ${names.jwksUrl}`,
      );
    }
  }
  const issuer = nonEmpty(settings, names.issuer);
  const audience = nonEmpty(settings, names.audience);
  return {
    ...(secret !== undefined && { secret }),
    ...(publicKeyPath !== undefined && { publicKeyPath }),
    ...(jwksUrl !== undefined && { jwksUrl }),
    algorithms: algorithms as Algorithm[],
    ...(issuer !== undefined && { issuer }),
    ...(audience !== undefined && { audience }),
  };
}

/** Handler trust exists once one of its key sources is set; its other settings alone are a mistake. */
function resolveHandlerTrust(settings: TokenSettings): TrustOptions | undefined {
  const names = namesOf('HANDLER_');
  const hasSource = [names.secret, names.publicKey, names.jwksUrl].some((name) => nonEmpty(settings, name));
  if (hasSource) return resolveTrust(settings, 'HANDLER_');
  const stray = [names.algorithms, names.issuer, names.audience].find((name) => nonEmpty(settings, name));
  if (stray !== undefined) {
    throw new CashewError(
      'ERR_CONFIG_INVALID',
      `${stray} needs a handler key source: set HANDLER_JWT_SECRET, HANDLER_JWT_PUBLIC_KEY or HANDLER_JWKS_URL`,
    );
  }
  return undefined;
}

export function resolveTokenOptions(settings: TokenSettings): TokenOptions {
  const users = resolveTrust(settings, '');
  const handlers = resolveHandlerTrust(settings);
  const clockToleranceSec = wholeNumber(settings, 'JWT_CLOCK_TOLERANCE', DEFAULT_CLOCK_TOLERANCE_SEC, 300);
  const cooldownMs = wholeNumber(settings, 'JWKS_COOLDOWN_MS', DEFAULT_JWKS_COOLDOWN_MS, 86_400_000);
  const maxAgeMs = wholeNumber(settings, 'JWKS_MAX_AGE_MS', DEFAULT_JWKS_MAX_AGE_MS, 86_400_000);
  if (maxAgeMs < 1000) throw invalid('JWKS_MAX_AGE_MS', String(maxAgeMs), 'at least 1000 (ms)');
  const staleMs = wholeNumber(settings, 'JWKS_STALE_MS', DEFAULT_JWKS_STALE_MS, 7 * 86_400_000);
  const retryMs = wholeNumber(settings, 'JWKS_RETRY_MS', DEFAULT_JWKS_RETRY_MS, 600_000);
  if (retryMs < 10) throw invalid('JWKS_RETRY_MS', String(retryMs), 'at least 10 (ms)');
  const cacheSize = wholeNumber(settings, 'JWT_CACHE_SIZE', DEFAULT_JWT_CACHE_SIZE, 1_000_000);
  return {
    ...users,
    userClaim: nonEmpty(settings, 'JWT_USER_CLAIM') ?? DEFAULT_USER_CLAIM,
    clockToleranceSec,
    jwksCooldownMs: cooldownMs,
    jwks: { cooldownMs, maxAgeMs, staleMs, retryMs },
    cacheSize,
    ...(handlers !== undefined && { handlers }),
  };
}
