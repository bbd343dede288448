// The handler runtime: define a handler, run it as a process (`cashew handler <module>`).
export { defineHandler, isHandler } from './define.ts';
export type { CommandContext, CommandFunction, Handler, HandlerDefinition } from './define.ts';
export { runHandler, DEFAULT_DRAIN_TIMEOUT_MS, DEFAULT_PUBLISH_TIMEOUT_MS } from './runtime.ts';
export type { RunOptions, RunningHandler } from './runtime.ts';
export { processWithDeferredAck } from './deferred-ack.ts';
export type { MessageProcessor } from './deferred-ack.ts';
export { HandlerError, CashewError } from '../protocol/index.ts';
