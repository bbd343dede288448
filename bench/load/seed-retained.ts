// Scenario 4 setup: store retained messages on `<userPrefix><n>/state` (other users' partitions),
// published QoS1 with a bounded number awaiting PUBACK, so the broker has stored them all at the end.
import { connectMqtt, encodePublish, PACKET, type Endpoint } from '../lib/mqtt-wire.ts';
import { runWorker } from '../lib/workers.ts';
import type { Identity } from './messaging.ts';

export interface SeedParams {
  readonly endpoint: Endpoint;
  readonly identity: Identity;
  readonly userPrefix: string;
  readonly from: number;
  readonly to: number;
}

runWorker<SeedParams, { stored: number }>(async (params) => {
  const { connection, returnCode } = await connectMqtt(params.endpoint, {
    clientId: params.identity.clientId,
    password: params.identity.token,
  });
  if (returnCode !== 0) throw new Error(`CONNACK ${returnCode}`);
  const payload = Buffer.from('{"state":"retained benchmark message"}');
  let next = params.from;
  let acked = 0;
  const total = params.to - params.from;
  await new Promise<void>((resolve) => {
    connection.onAck = (type) => {
      if (type !== PACKET.PUBACK) return;
      acked++;
      if (acked === total) resolve();
      else send();
    };
    function send(): void {
      while (next < params.to && next - params.from - acked < 200) {
        const id = (next % 65535) + 1;
        connection.write(encodePublish(`${params.userPrefix}${next}/state`, payload, 1, id, true));
        next++;
      }
    }
    if (total === 0) resolve();
    else send();
  });
  connection.close();
  return { stored: total };
});
