// `cashew broker`: start the broker on the embedded defaults, stop gracefully on SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { createLogger, resolveOptions, startBroker } from '../broker/index.ts';
import { SETTING_FLAGS, settingsFrom } from './settings.ts';

export const USAGE = `usage: cashew broker [setting flags]
Starts the broker: MQTT over TLS (MQTTS_PORT, 8883) and MQTT over WSS (WSS_PORT, 8884, path /mqtt),
stops gracefully on SIGINT/SIGTERM. Every setting is also a flag: MQTTS_PORT=0 is --mqtts-port 0.
Settings: docs/configuration.md (environment, .env file, flags).`;

export async function brokerCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: SETTING_FLAGS, strict: true });
  const options = resolveOptions(settingsFrom(process.env, values));
  const logger = createLogger(options.logLevel);
  // Listen for the stop signal before starting: a Ctrl-C during start stops the broker once it is up.
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const broker = await startBroker(options, { logger });
  const signal = await stopSignal;
  logger.info({ signal }, 'stopping');
  const timeout = setTimeout(() => {
    logger.error('graceful stop took longer than 10 s; exiting');
    process.exit(1);
  }, 10_000);
  timeout.unref();
  await broker.close();
  return 0;
}
