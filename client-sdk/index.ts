// The Cashew client SDK: one codebase for Node, browsers (dist/browser/cashew-sdk.js) and React Native.
export { connect, CashewClient } from './client.ts';
export type { EventListener, EventMeta, ObserveOptions, RequestOptions, SendOptions } from './client.ts';
export {
  parseOptions,
  DEFAULT_USER_ID_CLAIM,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_MAX_BUFFERED_EVENTS,
} from './options.ts';
export type { ConnectOptions, ResolvedOptions } from './options.ts';
export type { DeviceStorage } from './device-id.ts';
export { Connection } from './connection.ts';
export type { ConnectionOptions, ConnectionState, TokenSource } from './connection.ts';
export { reconnectDelay, DEFAULT_BACKOFF } from './backoff.ts';
export type { BackoffOptions } from './backoff.ts';
export { decodeClaims, userIdOf } from './jwt-claims.ts';
export type { SdkLogger } from './logger.ts';
export { CashewError, HandlerError, isCashewError, ERROR_CODES } from '../protocol/index.ts';
export type { ErrorCode } from '../protocol/index.ts';
