// Broker options: one interface with documented defaults, resolved and validated once at start.
import { CashewError } from '../protocol/index.ts';
import { isAddressOrSubnet } from './net/proxy-protocol.ts';
import { LOG_LEVELS, type LogLevel } from './log/logger.ts';
import { ALGORITHMS, type Algorithm } from './auth/algorithms.ts';
import { LIMIT_SETTINGS, resolveLimits, type Limits } from './limits/limits.ts';
import { resolveTlsSessions, TLS_SESSION_SETTINGS, type TlsSessionOptions } from './net/tls-sessions.ts';

export const MODES = ['dev', 'production'] as const;
export type Mode = (typeof MODES)[number];

export interface TokenOptions {
  /** Shared secret for HS256/384/512 (`JWT_SECRET`). */
  secret?: string;
  /** Path to a PEM public key for RS/PS/ES/EdDSA (`JWT_PUBLIC_KEY`). */
  publicKeyPath?: string;
  /** JWKS endpoint, keys looked up by `kid` (`JWKS_URL`). */
  jwksUrl?: string;
  /** Accepted algorithms (`JWT_ALGORITHMS`); default HS256 with a secret, RS256 with a key or JWKS. */
  algorithms: readonly Algorithm[];
  /** Required `iss` (`JWT_ISSUER`). */
  issuer?: string;
  /** Required `aud` (`JWT_AUDIENCE`). */
  audience?: string;
  /** Claim holding the user id (`JWT_USER_CLAIM`, default `sub`). */
  userClaim: string;
  /** Allowed clock skew for `exp`/`nbf`, in seconds (`JWT_CLOCK_TOLERANCE`, default 30). */
  clockToleranceSec: number;
  /** Least time between two JWKS refetches caused by an unknown `kid`, ms (`JWKS_COOLDOWN_MS`, default 30 s). */
  jwksCooldownMs: number;
}

export interface BrokerOptions {
  mode: Mode;
  /** Interface to bind (`HOST`): 127.0.0.1 in dev mode, 0.0.0.0 in production. */
  host: string;
  /** MQTT over TLS (`MQTTS_PORT`, default 8883). */
  mqttsPort: number;
  /** MQTT over secure WebSocket, path `/mqtt`, plus `/healthz` (`WSS_PORT`, default 8884). */
  wssPort: number;
  /** Plain MQTT over TCP, for local development only (`MQTT_PORT`, off unless set). */
  mqttPort?: number;
  /** Plain MQTT over WebSocket, for local development only (`WS_PORT`, off unless set). */
  wsPort?: number;
  /** PEM certificate and key paths (`TLS_CERT`, `TLS_KEY`); dev certificates are generated when absent. */
  tlsCert?: string;
  tlsKey?: string;
  /** Where dev certificates and the dev token secret live (`CERTS_DIR`, default `certs/dev`). */
  certsDir: string;
  /** TLS session resumption: lifetime and keys shared by the nodes (broker/net/tls-sessions.ts). */
  tlsSessions: TlsSessionOptions;
  token: TokenOptions;
  logLevel: LogLevel;
  /** Redis for scale-out (`REDIS_URL`); in-memory when absent. */
  redisUrl?: string;
  /** Stable broker node id (`NODE_ID`); with Redis, the host name when absent (docs/scaling.md). */
  nodeId?: string;
  /** Cluster heartbeat, ms (`CLUSTER_HEARTBEAT_MS`, default 1000): wills of a dead node within 7×. */
  clusterHeartbeatMs: number;
  /** PROXY protocol v1/v2 on the TLS and WSS listeners (`PROXY_PROTOCOL`, default false). */
  proxyProtocol: boolean;
  /** Peers whose PROXY header is believed (`TRUSTED_PROXIES`, addresses and CIDRs; required with it). */
  trustedProxies: readonly string[];
  /** The dev token endpoint `POST /dev/token` (`DEV_TOKENS`, default on in dev mode; never in production). */
  devTokens?: boolean;
  /** Serve the dev token endpoint on a non-loopback HOST anyway (`DEV_TOKENS_ALLOW_REMOTE`, default false). */
  devTokensAllowRemote?: boolean;
  /** Bounds on what a client can make the broker hold (broker/limits/limits.ts). */
  limits: Limits;
}

export const DEFAULT_MQTTS_PORT = 8883;
export const DEFAULT_WSS_PORT = 8884;
export const DEFAULT_USER_CLAIM = 'sub';
export const DEFAULT_CLOCK_TOLERANCE_SEC = 30;
export const DEFAULT_JWKS_COOLDOWN_MS = 30_000;
export const DEFAULT_CERTS_DIR = 'certs/dev';
export const DEFAULT_CLUSTER_HEARTBEAT_MS = 1000;
/** Node ids become parts of Redis keys and `$SYS/<id>/…` topics: no `/`, `:`, `+`, `#`. */
const NODE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** The environment variables read, in the order they are documented in docs/configuration.md. */
export const SETTINGS = [
  'CASHEW_MODE',
  'HOST',
  'MQTTS_PORT',
  'WSS_PORT',
  'MQTT_PORT',
  'WS_PORT',
  'TLS_CERT',
  'TLS_KEY',
  'CERTS_DIR',
  ...TLS_SESSION_SETTINGS,
  'JWT_SECRET',
  'JWT_PUBLIC_KEY',
  'JWKS_URL',
  'JWKS_COOLDOWN_MS',
  'JWT_ALGORITHMS',
  'JWT_ISSUER',
  'JWT_AUDIENCE',
  'JWT_USER_CLAIM',
  'JWT_CLOCK_TOLERANCE',
  'LOG_LEVEL',
  'REDIS_URL',
  'NODE_ID',
  'CLUSTER_HEARTBEAT_MS',
  'PROXY_PROTOCOL',
  'TRUSTED_PROXIES',
  'DEV_TOKENS',
  'DEV_TOKENS_ALLOW_REMOTE',
  ...LIMIT_SETTINGS,
] as const;
export type Setting = (typeof SETTINGS)[number];
export type Settings = Partial<Record<Setting, string>>;

const BOOLEANS = ['true', 'false'] as const;

function invalid(setting: Setting, value: string, expected: string): CashewError {
  return new CashewError(
    'ERR_CONFIG_INVALID',
    `${setting}=${JSON.stringify(value)} is invalid: expected ${expected}`,
  );
}

function port(settings: Settings, name: Setting): number | undefined {
  const raw = settings[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw invalid(name, raw, 'a port 0-65535');
  return value;
}

function oneOf<T extends string>(settings: Settings, name: Setting, allowed: readonly T[], fallback: T): T {
  const raw = settings[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw invalid(name, raw, `one of ${allowed.join(', ')}`);
  return raw as T;
}

function nonEmpty(settings: Settings, name: Setting): string | undefined {
  const raw = settings[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

function resolveTokenOptions(settings: Settings): TokenOptions {
  const secret = nonEmpty(settings, 'JWT_SECRET');
  const publicKeyPath = nonEmpty(settings, 'JWT_PUBLIC_KEY');
  const jwksUrl = nonEmpty(settings, 'JWKS_URL');
  const sources = [secret, publicKeyPath, jwksUrl].filter((s) => s !== undefined).length;
  if (sources > 1) {
    throw new CashewError(
      'ERR_CONFIG_INVALID',
      'JWT_SECRET, JWT_PUBLIC_KEY and JWKS_URL are exclusive: set one',
    );
  }
  if (jwksUrl !== undefined && !/^https?:\/\//.test(jwksUrl))
    throw invalid('JWKS_URL', jwksUrl, 'an http(s) URL');
  if (secret !== undefined && secret.length < 32) {
    throw invalid('JWT_SECRET', '<hidden>', 'a secret of at least 32 characters');
  }
  const symmetric = secret !== undefined || sources === 0;
  const rawAlgorithms = nonEmpty(settings, 'JWT_ALGORITHMS');
  const algorithms =
    rawAlgorithms === undefined
      ? [symmetric ? 'HS256' : 'RS256']
      : rawAlgorithms
          .split(',')
          .map((alg) => alg.trim())
          .filter((alg) => alg !== '');
  if (algorithms.length === 0) throw invalid('JWT_ALGORITHMS', rawAlgorithms ?? '', 'at least one algorithm');
  for (const alg of algorithms) {
    if (!(ALGORITHMS as readonly string[]).includes(alg)) {
      throw invalid(
        'JWT_ALGORITHMS',
        rawAlgorithms ?? '',
        `a list of ${ALGORITHMS.join(', ')} ('none' is never accepted)`,
      );
    }
    if (alg.startsWith('HS') !== symmetric) {
      throw invalid(
        'JWT_ALGORITHMS',
        rawAlgorithms ?? '',
        symmetric ? 'HS256/384/512 with JWT_SECRET' : 'asymmetric algorithms with JWT_PUBLIC_KEY or JWKS_URL',
      );
    }
  }
  const tolerance = nonEmpty(settings, 'JWT_CLOCK_TOLERANCE');
  const clockToleranceSec = tolerance === undefined ? DEFAULT_CLOCK_TOLERANCE_SEC : Number(tolerance);
  if (!Number.isInteger(clockToleranceSec) || clockToleranceSec < 0 || clockToleranceSec > 300) {
    throw invalid('JWT_CLOCK_TOLERANCE', tolerance ?? '', 'whole seconds 0-300');
  }
  const cooldown = nonEmpty(settings, 'JWKS_COOLDOWN_MS');
  const jwksCooldownMs = cooldown === undefined ? DEFAULT_JWKS_COOLDOWN_MS : Number(cooldown);
  if (!Number.isInteger(jwksCooldownMs) || jwksCooldownMs < 0 || jwksCooldownMs > 86_400_000) {
    throw invalid('JWKS_COOLDOWN_MS', cooldown ?? '', 'whole milliseconds 0-86400000');
  }
  const userClaim = nonEmpty(settings, 'JWT_USER_CLAIM') ?? DEFAULT_USER_CLAIM;
  return {
    ...(secret !== undefined && { secret }),
    ...(publicKeyPath !== undefined && { publicKeyPath }),
    ...(jwksUrl !== undefined && { jwksUrl }),
    algorithms: algorithms as Algorithm[],
    ...(settings.JWT_ISSUER && { issuer: settings.JWT_ISSUER }),
    ...(settings.JWT_AUDIENCE && { audience: settings.JWT_AUDIENCE }),
    userClaim,
    clockToleranceSec,
    jwksCooldownMs,
  };
}

/** Resolves and validates every setting once; throws ERR_CONFIG_INVALID naming the bad setting. */
export function resolveOptions(settings: Settings): BrokerOptions {
  const mode = oneOf(settings, 'CASHEW_MODE', MODES, 'dev');
  const token = resolveTokenOptions(settings);
  const tlsCert = nonEmpty(settings, 'TLS_CERT');
  const tlsKey = nonEmpty(settings, 'TLS_KEY');
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw new CashewError('ERR_CONFIG_INVALID', 'TLS_CERT and TLS_KEY must be set together');
  }
  if (mode === 'production') {
    if (!token.secret && !token.publicKeyPath && !token.jwksUrl) {
      throw new CashewError(
        'ERR_CONFIG_INVALID',
        'CASHEW_MODE=production needs JWT_SECRET, JWT_PUBLIC_KEY or JWKS_URL',
      );
    }
    if (tlsCert === undefined) {
      throw new CashewError('ERR_CONFIG_INVALID', 'CASHEW_MODE=production needs TLS_CERT and TLS_KEY');
    }
    // keys fetched over plain HTTP could be swapped by anyone on the path: every token forgeable
    if (token.jwksUrl?.startsWith('http://'))
      throw invalid('JWKS_URL', token.jwksUrl, 'an https:// URL in production');
  }
  const mqttPort = port(settings, 'MQTT_PORT');
  const wsPort = port(settings, 'WS_PORT');
  const redisUrl = nonEmpty(settings, 'REDIS_URL');
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl))
    throw invalid('REDIS_URL', redisUrl, 'a redis:// URL');
  const nodeId = nonEmpty(settings, 'NODE_ID');
  if (nodeId !== undefined && !NODE_ID_PATTERN.test(nodeId))
    throw invalid('NODE_ID', nodeId, '1-64 letters, digits, _ or -');
  const heartbeat = nonEmpty(settings, 'CLUSTER_HEARTBEAT_MS');
  const clusterHeartbeatMs = heartbeat === undefined ? DEFAULT_CLUSTER_HEARTBEAT_MS : Number(heartbeat);
  if (!Number.isInteger(clusterHeartbeatMs) || clusterHeartbeatMs < 100 || clusterHeartbeatMs > 60_000)
    throw invalid('CLUSTER_HEARTBEAT_MS', heartbeat ?? '', 'whole milliseconds 100-60000');
  const proxyProtocol = oneOf(settings, 'PROXY_PROTOCOL', ['true', 'false'], 'false') === 'true';
  const trustedProxies = (nonEmpty(settings, 'TRUSTED_PROXIES') ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const entry of trustedProxies)
    if (!isAddressOrSubnet(entry)) throw invalid('TRUSTED_PROXIES', entry, 'IP addresses or CIDRs');
  if (proxyProtocol && trustedProxies.length === 0)
    throw invalid('TRUSTED_PROXIES', '', 'the proxies to believe when PROXY_PROTOCOL=true');
  const devTokens = oneOf(settings, 'DEV_TOKENS', BOOLEANS, mode === 'dev' ? 'true' : 'false') === 'true';
  if (devTokens && mode !== 'dev')
    throw invalid('DEV_TOKENS', 'true', 'false in production (the dev token endpoint is dev-only)');
  const devTokensAllowRemote = oneOf(settings, 'DEV_TOKENS_ALLOW_REMOTE', BOOLEANS, 'false') === 'true';
  return {
    mode,
    host: nonEmpty(settings, 'HOST') ?? (mode === 'dev' ? '127.0.0.1' : '0.0.0.0'),
    mqttsPort: port(settings, 'MQTTS_PORT') ?? DEFAULT_MQTTS_PORT,
    wssPort: port(settings, 'WSS_PORT') ?? DEFAULT_WSS_PORT,
    ...(mqttPort !== undefined && { mqttPort }),
    ...(wsPort !== undefined && { wsPort }),
    ...(tlsCert !== undefined && tlsKey !== undefined && { tlsCert, tlsKey }),
    certsDir: nonEmpty(settings, 'CERTS_DIR') ?? DEFAULT_CERTS_DIR,
    tlsSessions: resolveTlsSessions(settings),
    token,
    logLevel: oneOf(settings, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    ...(redisUrl !== undefined && { redisUrl }),
    ...(nodeId !== undefined && { nodeId }),
    clusterHeartbeatMs,
    proxyProtocol,
    trustedProxies,
    devTokens,
    devTokensAllowRemote,
    limits: resolveLimits(settings),
  };
}

/** Picks the known settings out of an environment (process.env after `.env` was loaded). */
export function settingsFromEnv(env: NodeJS.ProcessEnv): Settings {
  const settings: Settings = {};
  for (const name of SETTINGS) {
    const value = env[name];
    if (value !== undefined) settings[name] = value;
  }
  return settings;
}
