// Structured logs with a level (pino). One JSON object per line, unless a person is watching: on a
// terminal the same records are printed pretty and coloured (pino-pretty, in this thread, written
// synchronously so that nothing is lost when the process exits). LOG_FORMAT decides: `auto` (pretty
// on a terminal, JSON otherwise), `json`, or `pretty`. pino-pretty is loaded only then: it adds
// ~150 ms to the start of every process (broker, handler) that writes JSON.
import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export type { Logger };

/** Whether records go out pretty: asked for, or `auto` with stdout on a terminal. */
export function prettyOutput(format: LogFormat, stdoutIsTerminal: boolean): boolean {
  return format === 'pretty' || (format === 'auto' && stdoutIsTerminal);
}

/**
 * A logger writing to `destination` (JSON, always: tests and embedders parse it), or to stdout in
 * `format` when no destination is given.
 */
export function createLogger(
  level: LogLevel,
  destination?: pino.DestinationStream,
  format: LogFormat = 'auto',
): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'cashew' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (destination !== undefined) return pino(options, destination);
  const terminal = process.stdout.isTTY === true;
  if (!prettyOutput(format, terminal)) return pino(options);
  const pinoPretty = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
  return pino(
    options,
    pinoPretty({
      colorize: terminal,
      sync: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'service',
      singleLine: true,
    }),
  );
}
