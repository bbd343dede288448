// `cashew/handlers`: define a handler, run it as a process (`cashew handler <module>`) or in your own.
export { defineHandler } from './define.ts';
export type { CommandContext, CommandFunction, Handler, HandlerDefinition } from './define.ts';
export { runHandler, DEFAULT_DRAIN_TIMEOUT_MS, DEFAULT_PUBLISH_TIMEOUT_MS } from './runtime.ts';
export type { RunOptions, RunningHandler } from './runtime.ts';
export type { PresenceContext, PresenceFunction, PresenceListener } from './presence.ts';
export { isPresenceEvent, PRESENCE_EVENT, PRESENCE_FILTER } from '../protocol/index.ts';
export type { PresenceEvent } from '../protocol/index.ts';
export { HandlerError, CashewError, isCashewError } from '../protocol/index.ts';
export type { ErrorCode, WireError } from '../protocol/index.ts';
