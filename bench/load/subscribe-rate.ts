// Scenario 4 load: one client sends SUBSCRIBEs for distinct filters in its own partition, a few in
// flight, and counts SUBACKs per second. The broker also looks up retained messages for each filter.
import { connectMqtt, encodeSubscribe, PACKET, type Endpoint } from '../lib/mqtt-wire.ts';
import { runWorker } from '../lib/workers.ts';
import type { Identity } from './messaging.ts';

export interface SubscribeRateParams {
  readonly endpoint: Endpoint;
  readonly identity: Identity;
  /** Filters are `<prefix><n>`. */
  readonly filterPrefix: string;
  readonly maxSubscribes: number;
  readonly maxMs: number;
  readonly inFlight: number;
}

export interface SubscribeRateResult {
  readonly subacks: number;
  readonly elapsedMs: number;
}

runWorker<SubscribeRateParams, SubscribeRateResult>(async (params, channel) => {
  const { connection, returnCode } = await connectMqtt(params.endpoint, {
    clientId: params.identity.clientId,
    password: params.identity.token,
  });
  if (returnCode !== 0) throw new Error(`CONNACK ${returnCode}`);
  let sent = 0;
  let subacks = 0;
  let stopAt = Number.POSITIVE_INFINITY;
  const done = new Promise<void>((resolve) => {
    connection.onAck = (type) => {
      if (type !== PACKET.SUBACK) return;
      subacks++;
      if (subacks === sent && (sent >= params.maxSubscribes || performance.now() >= stopAt)) resolve();
      else send();
    };
  });
  function send(): void {
    while (sent - subacks < params.inFlight && sent < params.maxSubscribes && performance.now() < stopAt) {
      sent++;
      connection.write(encodeSubscribe((sent % 65535) + 1, [`${params.filterPrefix}${sent}`]));
    }
  }
  channel.mark('start');
  const started = performance.now();
  stopAt = started + params.maxMs;
  send();
  await done;
  const elapsedMs = performance.now() - started;
  channel.mark('end');
  connection.close();
  return { subacks, elapsedMs };
});
