// The wire format of commands, replies and errors, shared by the handler runtime and the client SDK.
// docs/protocol.md describes it. Browser-safe: no Node built-ins; payloads are bytes or strings.
import { CashewError, ERROR_CODES, type ErrorCode } from './errors.ts';
import { isRecord } from './guards.ts';
import { REPLY_LEVEL } from './topics.ts';

/** A command as published by a device on `<userId>/<command>`; `id` is absent for fire-and-forget. */
export interface CommandEnvelope {
  readonly id?: string;
  readonly data?: unknown;
}

/** The error half of a reply: a stable code and a human message. */
export interface WireError {
  readonly code: string;
  readonly message: string;
}

export type ReplyEnvelope =
  | { readonly id: string; readonly ok: true; readonly data?: unknown }
  | { readonly id: string; readonly ok: false; readonly error: WireError };

/** The topic of the replies to `command` for `userId`. */
export function replyTopic(userId: string, command: string): string {
  return `${userId}/${command}/${REPLY_LEVEL}`;
}

/** The filter a device subscribes to once for every reply it may get. */
export function replyFilter(userId: string): string {
  return `${userId}/+/${REPLY_LEVEL}`;
}

/** Anything with a UTF-8 `toString` (Node Buffer, mqtt.js' browser Buffer) or a string. */
export type Payload = string | { toString(encoding?: 'utf8'): string };

/** parseJson's answer for a payload that is not JSON text. */
const NO_JSON: unique symbol = Symbol('no-json');

function parseJson(payload: Payload): unknown {
  const text = typeof payload === 'string' ? payload : payload.toString('utf8');
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return NO_JSON;
  }
}

export function encodeCommand(envelope: CommandEnvelope): string {
  return JSON.stringify(envelope);
}

/**
 * Reads a command payload. A JSON object with only `id` (string) and/or `data` keys is an envelope;
 * anything else (binary, plain JSON, empty) is a raw command with no correlation id, whose bytes the
 * handler gets untouched.
 */
export function decodeCommand(payload: Payload): { envelope: CommandEnvelope; raw: boolean } {
  const value = parseJson(payload);
  if (isRecord(value) && Object.keys(value).every((key) => key === 'id' || key === 'data')) {
    if (value.id === undefined || typeof value.id === 'string') {
      return {
        envelope: { ...(typeof value.id === 'string' && { id: value.id }), data: value.data },
        raw: false,
      };
    }
  }
  return { envelope: { data: value === NO_JSON ? undefined : value }, raw: true };
}

export function encodeReply(reply: ReplyEnvelope): string {
  return JSON.stringify(reply);
}

function isWireError(value: unknown): value is WireError {
  return isRecord(value) && typeof value.code === 'string' && typeof value.message === 'string';
}

/** Reads a reply payload; undefined when it is not a well-formed reply. */
export function decodeReply(payload: Payload): ReplyEnvelope | undefined {
  const value = parseJson(payload);
  if (!isRecord(value) || typeof value.id !== 'string') return undefined;
  if (value.ok === true) return { id: value.id, ok: true, data: value.data };
  if (value.ok === false && isWireError(value.error))
    return { id: value.id, ok: false, error: { code: value.error.code, message: value.error.message } };
  return undefined;
}

/** Event data is plain JSON; a payload that is not JSON is handed over as its bytes. */
export function decodeEvent(payload: Payload): { data: unknown; json: boolean } {
  const value = parseJson(payload);
  return value === NO_JSON ? { data: payload, json: false } : { data: value, json: true };
}

/** Whether a code belongs to the Cashew catalogue (handlers may use their own codes too). */
export function isCatalogueCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

/**
 * A command failed with a handler's own code. Thrown in a handler (`new HandlerError('NO_APPLES',
 * 'the basket is empty')`), carried as `{ code, message }`, rebuilt by the SDK: `code` is always
 * ERR_HANDLER, `handlerCode` is the handler's.
 */
export class HandlerError extends CashewError {
  readonly handlerCode: string;

  constructor(handlerCode: string, message: string, options?: { cause?: unknown }) {
    super('ERR_HANDLER', message, options);
    this.handlerCode = handlerCode;
    this.name = 'HandlerError';
  }
}
