// Scenario 5 load: publishes QoS0 at a fixed rate to a random `<user>/t<k>` of the fleet, per step.
import { connectMqtt, encodePublish, type Endpoint } from '../lib/mqtt-wire.ts';
import { nowMicros, runWorker } from '../lib/workers.ts';
import type { Identity } from './messaging.ts';

export interface PublisherParams {
  readonly endpoint: Endpoint;
  readonly identity: Identity;
  readonly userIds: readonly string[];
  readonly subscriptionsPerClient: number;
  readonly payloadBytes: number;
}

runWorker<PublisherParams, { sent: number }>(async (params, channel) => {
  const { connection, returnCode } = await connectMqtt(params.endpoint, {
    clientId: params.identity.clientId,
    password: params.identity.token,
  });
  if (returnCode !== 0) throw new Error(`CONNACK ${returnCode}`);
  const topics = params.userIds.flatMap((userId) =>
    Array.from({ length: params.subscriptionsPerClient }, (_, k) => `${userId}/t${k}`),
  );
  const payload = Buffer.alloc(params.payloadBytes, 0x62);
  let total = 0;
  channel.send({ type: 'ready' });
  for (;;) {
    const message = await channel.next<{ type: string; rate: number; durationMs: number }>('run');
    if (message.rate <= 0) break;
    let sent = 0;
    const started = performance.now();
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const elapsed = performance.now() - started;
        const due = Math.floor((Math.min(elapsed, message.durationMs) / 1000) * message.rate);
        while (sent < due) {
          payload.writeDoubleLE(nowMicros(), 0);
          connection.write(encodePublish(topics[(Math.random() * topics.length) | 0] as string, payload));
          sent++;
        }
        if (elapsed >= message.durationMs) {
          clearInterval(timer);
          resolve();
        }
      }, 1);
    });
    total += sent;
    channel.send({ type: 'ran', sent, elapsedMs: performance.now() - started });
  }
  connection.close();
  return { sent: total };
});
