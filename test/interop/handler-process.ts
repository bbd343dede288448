// A Cashew handler as its own process (`cashew handler <module>`), connected to a test broker the way
// an operator runs one: token in CASHEW_TOKEN, broker in CASHEW_URL, CA in CASHEW_CA.
import { fileURLToPath } from 'node:url';
import type { TestBroker } from '../support/broker.ts';
import { TEST_CERTS_DIR } from '../support/broker.ts';
import { startTool, type RunningTool } from '../support/system-tools.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Starts `cashew handler <module>` and resolves once it logged "handler ready" (subscribed). */
export async function startHandlerProcess(
  broker: TestBroker,
  module: string,
  token: string,
  timeoutMs = 20_000,
): Promise<RunningTool> {
  const handler = startTool(process.execPath, ['bin/cashew.js', 'handler', module], {
    cwd: ROOT,
    // Killed at the latest after a few minutes; tests stop it in afterAll.
    timeoutMs: 300_000,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      CASHEW_URL: broker.mqttsUrl,
      CASHEW_TOKEN: token,
      CASHEW_CA: `${TEST_CERTS_DIR}/ca.crt`,
      LOG_LEVEL: 'info',
    },
  });
  try {
    await handler.waitForOutput('"msg":"handler ready"', timeoutMs);
  } catch (error) {
    handler.stop();
    throw error;
  }
  return handler;
}

/** Stops handler processes (SIGTERM, they drain) and waits for them to exit. */
export async function stopProcesses(...processes: (RunningTool | undefined)[]): Promise<void> {
  const started = processes.filter((running) => running !== undefined);
  for (const running of started) running.stop();
  await Promise.all(started.map((running) => running.finished));
}
