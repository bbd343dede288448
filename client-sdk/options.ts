// The SDK's options, their defaults, and the one step that merges and validates them.
import type { IClientOptions } from 'mqtt';
import { CashewError } from '../protocol/index.ts';
import type { BackoffOptions } from './backoff.ts';
import type { TokenSource } from './connection.ts';
import type { SdkLogger } from './logger.ts';

export const DEFAULT_USER_ID_CLAIM = 'sub';
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** How many events that arrive before anyone observes them are kept (per client). */
export const DEFAULT_MAX_BUFFERED_EVENTS = 1_000;

export interface ConnectOptions {
  /** `wss://host:8884/mqtt` (browsers, React Native, Node) or `mqtts://host:8883` (Node). */
  readonly url: string;
  /** A fixed token; or `getToken`, called before every (re)connect. One of the two. */
  readonly token?: string;
  readonly getToken?: TokenSource;
  /** The client id is `<userId>/<suffix>`; keep it stable per device for a persistent session. */
  readonly clientIdSuffix?: string;
  /** The claim that carries the user id (default `sub`; the broker's JWT_USER_CLAIM). */
  readonly userIdClaim?: string;
  /** false (default) keeps a persistent session: QoS 1 events sent while offline arrive later. */
  readonly clean?: boolean;
  /** Default timeout of `request()` (10 s). */
  readonly requestTimeoutMs?: number;
  /** How long `connect()` waits for the first connection (10 s). */
  readonly connectTimeoutMs?: number;
  readonly backoff?: BackoffOptions;
  readonly maxBufferedEvents?: number;
  /** Extra mqtt.js options, e.g. `{ ca }` in Node for a private CA. */
  readonly mqtt?: IClientOptions;
  readonly logger?: SdkLogger;
}

export interface ResolvedOptions {
  readonly url: string;
  readonly getToken: TokenSource;
  readonly clientIdSuffix: string;
  readonly userIdClaim: string;
  readonly clean: boolean;
  readonly requestTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly backoff: BackoffOptions;
  readonly maxBufferedEvents: number;
  readonly mqtt: IClientOptions;
  readonly logger: SdkLogger | undefined;
}

function randomSuffix(): string {
  return Math.random().toString(36).slice(2, 10);
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0)
    throw new CashewError('ERR_CONFIG_INVALID', `${name} must be a positive number`);
  return value;
}

export function parseOptions(options: ConnectOptions): ResolvedOptions {
  if (typeof options.url !== 'string' || !/^(wss?|mqtts?|tls|ssl):\/\//.test(options.url))
    throw new CashewError('ERR_CONFIG_INVALID', 'url must be a wss://, ws://, mqtts:// or mqtt:// URL');
  const { token, getToken } = options;
  if ((token === undefined) === (getToken === undefined))
    throw new CashewError('ERR_CONFIG_INVALID', 'give exactly one of token and getToken');
  const suffix = options.clientIdSuffix ?? randomSuffix();
  // eslint-disable-next-line no-control-regex -- NUL is exactly what must be refused
  if (/[/+#\u0000]/.test(suffix) || suffix === '')
    throw new CashewError('ERR_CONFIG_INVALID', 'clientIdSuffix must be one topic level');
  return {
    url: options.url,
    getToken: getToken ?? (() => token ?? ''),
    clientIdSuffix: suffix,
    userIdClaim: options.userIdClaim ?? DEFAULT_USER_ID_CLAIM,
    clean: options.clean ?? false,
    requestTimeoutMs: positive(options.requestTimeoutMs, DEFAULT_REQUEST_TIMEOUT_MS, 'requestTimeoutMs'),
    connectTimeoutMs: positive(options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, 'connectTimeoutMs'),
    backoff: options.backoff ?? {},
    maxBufferedEvents: options.maxBufferedEvents ?? DEFAULT_MAX_BUFFERED_EVENTS,
    mqtt: options.mqtt ?? {},
    logger: options.logger,
  };
}
