// Scenario 3 load: open authenticated connections (TCP, TLS or WSS, as the endpoint says), each with one
// subscription (`<user>/#`) when asked, and keep them idle (keepalive 0: no PINGREQ) until the parent
// has read the broker's memory, then close them.
import {
  connectMqtt,
  encodeSubscribe,
  PACKET,
  type Endpoint,
  type MqttConnection,
} from '../lib/mqtt-wire.ts';
import { runWorker, withConcurrency } from '../lib/workers.ts';
import type { Identity } from './messaging.ts';

export interface IdleParams {
  readonly endpoint: Endpoint;
  readonly identities: readonly Identity[];
  /** Source addresses used in turn (127.0.0.x), so more than one ephemeral port range is available. */
  readonly localAddresses: readonly string[];
  /** Subscribe each connection to `<user>/#` (the user id is the client id's first level). */
  readonly subscribe?: boolean;
}

export interface IdleResult {
  readonly connected: number;
  readonly failed: number;
}

runWorker<IdleParams, IdleResult>(async ({ endpoint, identities, localAddresses, subscribe }, channel) => {
  const connections: MqttConnection[] = [];
  let failed = 0;
  await withConcurrency(identities.length, 50, async (index) => {
    const identity = identities[index] as Identity;
    const localAddress = localAddresses[index % localAddresses.length];
    try {
      const { connection, returnCode } = await connectMqtt(
        { ...endpoint, ...(localAddress !== undefined && { localAddress }) },
        { clientId: identity.clientId, password: identity.token, keepalive: 0 },
      );
      if (returnCode !== 0) {
        failed++;
        return;
      }
      if (subscribe === true) {
        const suback = connection.next(PACKET.SUBACK);
        connection.write(encodeSubscribe(1, [`${identity.clientId.split('/')[0] ?? ''}/#`]));
        await suback;
      }
      connections.push(connection);
    } catch {
      failed++;
    }
  });
  channel.send({ type: 'connected', connected: connections.length, failed });
  await channel.next('close');
  for (const connection of connections) connection.socket.destroy();
  return { connected: connections.length, failed };
});
