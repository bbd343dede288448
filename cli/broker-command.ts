// `cashew broker`: start the broker on the embedded defaults, stop gracefully on SIGINT/SIGTERM.
// Start-up is all or nothing: a failure is one line naming the setting (printed by main), whatever
// had started is stopped, and the exit status is 1. A stop signal during start aborts the start.
import { parseArgs } from 'node:util';
import { createLogger, resolveOptions, startBroker, type RunningBroker } from '../broker/index.ts';
import { SETTING_FLAGS, settingsFrom } from './settings.ts';

/** A graceful stop (clients disconnected, Redis quit) that takes longer is cut short. */
const STOP_TIMEOUT_MS = 10_000;
/** After a failed start everything is stopped and the process exits by itself; this is the backstop. */
const EXIT_AFTER_FAILED_START_MS = 5_000;

export const USAGE = `usage: cashew broker [setting flags]
Starts the broker: MQTT over TLS (MQTTS_PORT, 8883) and MQTT over WSS (WSS_PORT, 8884, path /mqtt),
stops gracefully on SIGINT/SIGTERM. Every setting is also a flag: MQTTS_PORT=0 is --mqtts-port 0.
Settings: docs/configuration.md (environment, .env file, flags).`;

export async function brokerCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: SETTING_FLAGS, strict: true });
  const options = resolveOptions(settingsFrom(process.env, values));
  const logger = createLogger(options.logLevel, undefined, options.logFormat);
  // Listen for the stop signal before starting: a Ctrl-C during start aborts it.
  const starting = new AbortController();
  let onSignal: (signal: NodeJS.Signals) => void = () => undefined;
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    onSignal = (signal) => {
      starting.abort();
      resolve(signal);
    };
  });
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let broker: RunningBroker;
  try {
    broker = await startBroker(options, { logger, signal: starting.signal });
  } catch (error) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (starting.signal.aborted) {
      logger.info({ signal: await stopSignal }, 'stopped while starting');
      return 0;
    }
    exitSoonIfStillRunning();
    throw error;
  }
  const signal = await stopSignal;
  logger.info({ signal }, 'stopping');
  const timeout = setTimeout(() => {
    logger.error(`graceful stop took longer than ${STOP_TIMEOUT_MS / 1000} s; exiting`);
    process.exit(1);
  }, STOP_TIMEOUT_MS);
  timeout.unref();
  await broker.close();
  return 0;
}

/** Should anything still hold the event loop after a failed start, say so and exit anyway. */
function exitSoonIfStillRunning(): void {
  setTimeout(() => {
    process.stderr.write('cashew broker: still running after a failed start; exiting\n');
    process.exit(1);
  }, EXIT_AFTER_FAILED_START_MS).unref();
}
