// defineHandler: a handler's name, the commands it serves (one async function each) and the events
// it may emit. A returned value is the reply; a thrown HandlerError is a coded error reply.
import type { Logger } from 'pino';
import { CashewError, isValidName } from '../protocol/index.ts';
import type { PresenceFunction } from './presence.ts';

export interface CommandContext<T = unknown> {
  /** The sender, from the topic's first level (verified by the broker), never from the payload. */
  readonly userId: string;
  readonly command: string;
  /** The decoded JSON data of the command envelope (or of a plain JSON payload). */
  readonly data: T;
  /** The payload bytes, untouched (binary commands). */
  readonly payload: Uint8Array;
  /** The correlation id; undefined for fire-and-forget commands (then a return value goes nowhere). */
  readonly requestId: string | undefined;
  /** Publishes `<userId>/<event>` (QoS 1) and resolves once the broker has it. Bytes go as they are. */
  /** The process logger, bound to this command and sender. */
  readonly log: Logger;
  readonly emit: (userId: string, event: string, data?: unknown) => Promise<void>;
}

export type CommandFunction = (context: CommandContext) => unknown;

export interface HandlerDefinition {
  readonly name: string;
  readonly commands: Readonly<Record<string, CommandFunction>>;
  /** The events this handler emits (its token must grant them). */
  readonly events?: readonly string[];
  /** Called with users' presence events (its token must grant `presence`); see handlers/presence.ts. */
  readonly presence?: PresenceFunction;
}

export interface Handler extends HandlerDefinition {
  readonly events: readonly string[];
}

/** Validates a handler definition once, at load. */
export function defineHandler(definition: HandlerDefinition): Handler {
  if (!isValidName(definition.name))
    throw new CashewError('ERR_CONFIG_INVALID', `handler name ${JSON.stringify(definition.name)} is invalid`);
  const commands = Object.keys(definition.commands);
  if (commands.length === 0 && definition.presence === undefined)
    throw new CashewError(
      'ERR_CONFIG_INVALID',
      `handler ${definition.name} serves no command and observes no presence`,
    );
  for (const name of [...commands, ...(definition.events ?? [])]) {
    if (!isValidName(name))
      throw new CashewError(
        'ERR_CONFIG_INVALID',
        `handler ${definition.name}: invalid name ${JSON.stringify(name)}`,
      );
  }
  return { ...definition, events: [...(definition.events ?? [])] };
}

export function isHandler(value: unknown): value is Handler {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<Handler>;
  return (
    typeof candidate.name === 'string' &&
    typeof candidate.commands === 'object' &&
    candidate.commands !== null &&
    Array.isArray(candidate.events)
  );
}
