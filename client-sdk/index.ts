// `cashew/client`: the Cashew client SDK, one codebase for Node, browsers (dist/browser/cashew-sdk.js,
// the `browser` condition) and React Native.
export { connect, CashewClient } from './client.ts';
export type { EventListener, EventMeta, ObserveOptions, RequestOptions, SendOptions } from './client.ts';
export { DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS } from './options.ts';
export type { ConnectOptions } from './options.ts';
export type { ConnectionState, TokenSource } from './connection.ts';
export type { DeviceStorage } from './device-id.ts';
export type { BackoffOptions } from './backoff.ts';
export { decodeClaims, userIdOf } from './jwt-claims.ts';
export type { SdkLogger } from './logger.ts';
export { observePresence } from './presence.ts';
export type { PresenceListener, PresenceMeta } from './presence.ts';
export { isPresenceEvent, PRESENCE_EVENT } from '../protocol/index.ts';
export type { PresenceEvent } from '../protocol/index.ts';
export { CashewError, HandlerError, isCashewError, ERROR_CODES } from '../protocol/index.ts';
export type { ErrorCode, WireError } from '../protocol/index.ts';
