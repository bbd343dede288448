// `cashew broker`: start the broker on the embedded defaults, stop gracefully on SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { createLogger, resolveOptions, startBroker } from '../broker/index.ts';
import { SETTING_FLAGS, settingsFrom } from './settings.ts';

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
