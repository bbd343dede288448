// Scenario 5 load: a share of the subscriber fleet. Each client is one user subscribed to
// `<user>/t0 … <user>/t<k-1>`; the worker counts deliveries and their latency per rate step.
import {
  connectMqtt,
  encodeSubscribe,
  PACKET,
  type Endpoint,
  type MqttConnection,
} from '../lib/mqtt-wire.ts';
import { LatencyRecorder, percentile } from '../lib/stats.ts';
import { nowMicros, runWorker, withConcurrency } from '../lib/workers.ts';

export interface FleetIdentity {
  readonly userId: string;
  readonly clientId: string;
  readonly token: string;
}

export interface FleetParams {
  readonly endpoint: Endpoint;
  readonly identities: readonly FleetIdentity[];
  readonly subscriptionsPerClient: number;
  readonly localAddresses: readonly string[];
}

runWorker<FleetParams, { connected: number }>(async (params, channel) => {
  const connections: MqttConnection[] = [];
  let received = 0;
  const latencies = new LatencyRecorder(100_000);
  await withConcurrency(params.identities.length, 50, async (index) => {
    const identity = params.identities[index] as FleetIdentity;
    const localAddress = params.localAddresses[index % params.localAddresses.length];
    const { connection, returnCode } = await connectMqtt(
      { ...params.endpoint, ...(localAddress !== undefined && { localAddress }) },
      { clientId: identity.clientId, password: identity.token },
    );
    if (returnCode !== 0) throw new Error(`CONNACK ${returnCode} for ${identity.clientId}`);
    const filters = Array.from(
      { length: params.subscriptionsPerClient },
      (_, k) => `${identity.userId}/t${k}`,
    );
    const suback = connection.next(PACKET.SUBACK);
    connection.write(encodeSubscribe(1, filters));
    await suback;
    connection.onPublish = (_topic, payload) => {
      received++;
      latencies.record((nowMicros() - payload.readDoubleLE(0)) / 1000);
    };
    connections.push(connection);
  });
  channel.send({ type: 'ready', connected: connections.length });
  for (;;) {
    const message = await channel.next<{ type: string; command: string }>('command');
    if (message.command === 'reset') {
      received = 0;
      latencies.reset();
      channel.send({ type: 'reset-done' });
    } else if (message.command === 'collect') {
      const samples = latencies.samples;
      channel.send({
        type: 'stats',
        received,
        p50Ms: percentile(samples, 50),
        p99Ms: percentile(samples, 99),
      });
    } else {
      break;
    }
  }
  for (const connection of connections) connection.socket.destroy();
  return { connected: connections.length };
});
