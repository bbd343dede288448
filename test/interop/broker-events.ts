// Awaiting what the broker saw, so that a test needs no sleep and no parsing of a tool's buffered output.
import type { RunningBroker } from '../../broker/index.ts';

/** Resolves with the granted QoS list (128 = refused) of the next SUBSCRIBE from `clientId`. */
export function nextSubscribe(
  broker: RunningBroker,
  clientId: string,
  timeoutMs = 10_000,
): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      broker.aedes.off('subscribe', listener);
      reject(new Error(`no SUBSCRIBE from ${clientId} within ${timeoutMs} ms`));
    }, timeoutMs);
    function listener(subscriptions: { qos: number }[], client: { id: string }): void {
      if (client.id !== clientId) return;
      clearTimeout(timer);
      broker.aedes.off('subscribe', listener);
      resolve(subscriptions.map((subscription) => subscription.qos));
    }
    broker.aedes.on('subscribe', listener);
  });
}
