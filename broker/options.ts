// Broker options: one interface with documented defaults, resolved and validated once at start.
// The token settings are resolved by broker/auth/token-options.ts, the limits by broker/limits/limits.ts.
import { CashewError } from '../protocol/index.ts';
import { isAddressOrSubnet } from './net/proxy-protocol.ts';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from './log/logger.ts';
import { resolveTokenOptions, TOKEN_SETTINGS } from './auth/token-options.ts';
import type { TokenOptions } from './auth/token-options.ts';
import { LIMIT_SETTINGS, resolveLimits, type Limits } from './limits/limits.ts';
import { ADMIN_SETTINGS, resolveAdminOptions, type AdminOptions } from './admin/admin-options.ts';
import { resolveTlsSessions, TLS_SESSION_SETTINGS, type TlsSessionOptions } from './net/tls-sessions.ts';

export const MODES = ['dev', 'production'] as const;
export type Mode = (typeof MODES)[number];

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
  /** `auto` (pretty on a terminal, JSON otherwise), `json` or `pretty` (`LOG_FORMAT`, default auto). */
  logFormat: LogFormat;
  /** Redis for scale-out (`REDIS_URL`); in-memory when absent. */
  redisUrl?: string;
  /** Stable broker node id (`NODE_ID`); with Redis, the host name when absent (docs/scaling.md). */
  nodeId?: string;
  /** Cluster heartbeat, ms (`CLUSTER_HEARTBEAT_MS`, default 1000): wills of a dead node within 7×. */
  clusterHeartbeatMs: number;
  /** A user's last device gone for this long before presence says offline, ms (`PRESENCE_GRACE_MS`, default 5000). */
  presenceGraceMs: number;
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
  /** The admin listener: metrics, readiness, the admin API (broker/admin/admin-options.ts). */
  admin: AdminOptions;
}

export const DEFAULT_MQTTS_PORT = 8883;
export const DEFAULT_WSS_PORT = 8884;
export const DEFAULT_CERTS_DIR = 'certs/dev';
export const DEFAULT_CLUSTER_HEARTBEAT_MS = 1000;
export const DEFAULT_PRESENCE_GRACE_MS = 5000;
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
  ...TOKEN_SETTINGS,
  ...TLS_SESSION_SETTINGS,
  'LOG_LEVEL',
  'LOG_FORMAT',
  'REDIS_URL',
  'NODE_ID',
  'CLUSTER_HEARTBEAT_MS',
  'PRESENCE_GRACE_MS',
  'PROXY_PROTOCOL',
  'TRUSTED_PROXIES',
  'DEV_TOKENS',
  'DEV_TOKENS_ALLOW_REMOTE',
  ...LIMIT_SETTINGS,
  ...ADMIN_SETTINGS,
] as const;
export type Setting = (typeof SETTINGS)[number];
export type Settings = Partial<Record<Setting, string>>;

export type { TokenOptions, TrustOptions, JwksTimings } from './auth/token-options.ts';
export { DEFAULT_USER_CLAIM } from './auth/token-options.ts';

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
    if (token.handlers?.jwksUrl?.startsWith('http://'))
      throw invalid('HANDLER_JWKS_URL', token.handlers.jwksUrl, 'an https:// URL in production');
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
  const grace = nonEmpty(settings, 'PRESENCE_GRACE_MS');
  const presenceGraceMs = grace === undefined ? DEFAULT_PRESENCE_GRACE_MS : Number(grace);
  if (!Number.isInteger(presenceGraceMs) || presenceGraceMs < 0 || presenceGraceMs > 300_000)
    throw invalid('PRESENCE_GRACE_MS', grace ?? '', 'whole milliseconds 0-300000');
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
    logFormat: oneOf(settings, 'LOG_FORMAT', LOG_FORMATS, 'auto'),
    ...(redisUrl !== undefined && { redisUrl }),
    ...(nodeId !== undefined && { nodeId }),
    clusterHeartbeatMs,
    presenceGraceMs,
    proxyProtocol,
    trustedProxies,
    devTokens,
    devTokensAllowRemote,
    limits: resolveLimits(settings),
    admin: resolveAdminOptions(settings, mode),
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
