// Devices as client-SDK connections to a test broker, closed together at the end of a file, and a
// wait for a connection state.
import { connect, type CashewClient, type ConnectOptions } from '../../client-sdk/index.ts';
import type { TestBroker } from './broker.ts';
import { startHandlerProcess } from './processes.ts';
import { userToken } from './tokens.ts';

export interface Devices {
  /** A device of `userId` over WSS with client id `<userId>/<suffix>`. */
  connect(userId: string, suffix?: string): Promise<CashewClient>;
  /** Keeps an SDK client made some other way, so that `closeAll` closes it too. */
  track(client: CashewClient): CashewClient;
  closeAll(): Promise<void>;
}

export function devicesOf(broker: () => TestBroker, options: Partial<ConnectOptions> = {}): Devices {
  const clients: CashewClient[] = [];
  const track = (client: CashewClient): CashewClient => {
    clients.push(client);
    return client;
  };
  return {
    track,
    connect: async (userId, suffix = 'phone') =>
      track(
        await connect({
          url: broker().wssUrl,
          token: userToken(userId),
          clientIdSuffix: suffix,
          mqtt: { ca: broker().ca },
          ...options,
        }),
      ),
    closeAll: async () => {
      await Promise.all(clients.splice(0).map((client) => client.close()));
    },
  };
}

/** Resolves on the next change of `client` to `state`. */
export function nextState(client: CashewClient, state: string, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ${state} within ${timeoutMs} ms`)), timeoutMs);
    const stop = client.onState((current) => {
      if (current !== state) return;
      clearTimeout(timer);
      stop();
      resolve();
    });
  });
}

/** Resolves at once when `client` is in `state`, else on its next change to it. */
export function waitForState(client: CashewClient, state: string, timeoutMs = 5_000): Promise<void> {
  return client.state === state ? Promise.resolve() : nextState(client, state, timeoutMs);
}

/** The echo handler (test/support/handlers/echo.ts) as its own process, connected to `broker`. */
export async function startEchoHandler(broker: TestBroker): Promise<void> {
  await startHandlerProcess('test/support/handlers/echo.ts', { url: broker.mqttsUrl });
}
