// The SDK's options, their defaults, and the one step that merges and validates them.
import type { IClientOptions } from 'mqtt';
import { CashewError } from '../protocol/index.ts';
import type { BackoffOptions } from './backoff.ts';
import { defaultDeviceStorage, type DeviceStorage } from './device-id.ts';
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
  /**
   * The client id is `<userId>/<suffix>`. Default: a device id made once per install and kept in
   * `storage`, so one device keeps one persistent session.
   */
  readonly clientIdSuffix?: string;
  /** Where the device id is kept: `localStorage` in browsers by default; pass AsyncStorage in React Native; null: none. */
  readonly storage?: DeviceStorage | null;
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
  /**
   * true (default): before the token expires, a new one from `getToken` is sent over the open
   * connection (docs/protocol.md#token-refresh); false: the broker closes the connection at `exp`
   * and the SDK reconnects with a fresh token.
   */
  readonly refreshToken?: boolean;
  /** Extra mqtt.js options, e.g. `{ ca }` in Node for a private CA. */
  readonly mqtt?: IClientOptions;
  readonly logger?: SdkLogger;
}

export interface ResolvedOptions {
  readonly url: string;
  readonly getToken: TokenSource;
  /** Set when given; otherwise the device id from `storage` (device-id.ts). */
  readonly clientIdSuffix: string | undefined;
  readonly storage: DeviceStorage | undefined;
  readonly userIdClaim: string;
  readonly clean: boolean;
  readonly requestTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly backoff: BackoffOptions;
  readonly maxBufferedEvents: number;
  readonly refreshToken: boolean;
  readonly mqtt: IClientOptions;
  readonly logger: SdkLogger | undefined;
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
  const suffix = options.clientIdSuffix;
  // eslint-disable-next-line no-control-regex -- NUL is exactly what must be refused
  if (suffix !== undefined && (/[/+#\u0000]/.test(suffix) || suffix === ''))
    throw new CashewError('ERR_CONFIG_INVALID', 'clientIdSuffix must be one topic level');
  return {
    url: options.url,
    getToken: getToken ?? (() => token ?? ''),
    clientIdSuffix: suffix,
    storage: options.storage === null ? undefined : (options.storage ?? defaultDeviceStorage()),
    userIdClaim: options.userIdClaim ?? DEFAULT_USER_ID_CLAIM,
    clean: options.clean ?? false,
    requestTimeoutMs: positive(options.requestTimeoutMs, DEFAULT_REQUEST_TIMEOUT_MS, 'requestTimeoutMs'),
    connectTimeoutMs: positive(options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, 'connectTimeoutMs'),
    backoff: options.backoff ?? {},
    maxBufferedEvents: options.maxBufferedEvents ?? DEFAULT_MAX_BUFFERED_EVENTS,
    refreshToken: options.refreshToken ?? true,
    mqtt: options.mqtt ?? {},
    logger: options.logger,
  };
}
