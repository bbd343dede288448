// Structured logs: one JSON object per line (pino), with a level.
import { pino, type Logger } from 'pino';
import type { LogLevel } from './options.ts';

export type { Logger };

export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'cashew' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
