// Scenario 7 load: a fleet of devices with persistent sessions (clean = false, one QoS1 subscription
// `<user>/#`) connects, drops at once (sockets destroyed, as a network outage does), gets
// `messagesPerDevice` QoS1 messages queued while away, then reconnects all at once; a refused or
// failed attempt waits the SDK's backoff (client-sdk/backoff.ts: exponential, jitter) and retries.
// Reports the time until every device is back, CONNACK latency of the successful attempts, refusals,
// and messages lost (queued but never delivered) or delivered twice.
import { reconnectDelay } from '../../client-sdk/backoff.ts';
import {
  connectMqtt,
  encodePuback,
  encodePublish,
  encodeSubscribe,
  PACKET,
  type Endpoint,
  type MqttConnection,
} from '../lib/mqtt-wire.ts';
import { percentile } from '../lib/stats.ts';
import { runWorker, sleep, withConcurrency } from '../lib/workers.ts';

export interface StormDevice {
  readonly userId: string;
  readonly clientId: string;
  readonly token: string;
}

export interface ReconnectStormParams {
  readonly endpoint: Endpoint;
  readonly devices: readonly StormDevice[];
  readonly publisher: { readonly clientId: string; readonly token: string };
  readonly messagesPerDevice: number;
  readonly localAddresses: readonly string[];
  /** Give up waiting for the fleet (or its messages) after this long. */
  readonly timeoutMs: number;
}

export interface ReconnectStormResult {
  readonly devices: number;
  readonly back: number;
  readonly backMs: number;
  readonly connackP50Ms: number;
  readonly connackP99Ms: number;
  readonly refusals: number;
  readonly failures: number;
  /** Failed attempts of the storm by cause (an error code, or the error's message). */
  readonly failureCauses: Readonly<Record<string, number>>;
  readonly expected: number;
  readonly lost: number;
  readonly duplicates: number;
  /** This generator's CPU (user + system) from the storm's start to its end, µs. */
  readonly generatorCpuMicros: number;
}

runWorker<ReconnectStormParams, ReconnectStormResult>(async (params, channel) => {
  const { devices, endpoint, localAddresses } = params;
  const received = devices.map(() => new Set<number>());
  let duplicates = 0;
  const endpointOf = (index: number): Endpoint => {
    const localAddress = localAddresses[index % localAddresses.length];
    return { ...endpoint, ...(localAddress !== undefined && { localAddress }) };
  };
  const acknowledge = (index: number) => (connection: MqttConnection) => {
    connection.onPublish = (_topic, payload, qos, messageId) => {
      if (qos > 0) connection.write(encodePuback(messageId));
      const seq = payload.readUInt32BE(0);
      if (received[index]?.has(seq) === true) duplicates++;
      else received[index]?.add(seq);
    };
  };
  let refusals = 0;
  let failures = 0;
  const failureCauses = new Map<string, number>();
  const latencies: number[] = [];
  /** Connects a device with its persistent session, retrying with the SDK's backoff. */
  async function connectWithBackoff(index: number): Promise<MqttConnection> {
    const device = devices[index] as StormDevice;
    for (let attempt = 0; ; attempt++) {
      const begin = performance.now();
      try {
        const { connection, returnCode } = await connectMqtt(
          endpointOf(index),
          { clientId: device.clientId, password: device.token, clean: false },
          undefined,
          acknowledge(index),
        );
        if (returnCode === 0) {
          latencies.push(performance.now() - begin);
          return connection;
        }
        refusals++;
        connection.close();
      } catch (error) {
        failures++;
        const cause = (error as { code?: string }).code ?? (error as Error).message.slice(0, 60);
        failureCauses.set(cause, (failureCauses.get(cause) ?? 0) + 1);
      }
      await sleep(reconnectDelay(attempt));
    }
  }

  // 1. The fleet connects and subscribes (the session remembers the subscription).
  const first = await withConcurrency(devices.length, 50, async (index) => {
    const connection = await connectWithBackoff(index);
    const suback = connection.next(PACKET.SUBACK);
    connection.write(encodeSubscribe(1, [`${(devices[index] as StormDevice).userId}/#`], 1));
    await suback;
    return connection;
  });
  // 2. The outage: every socket dies at once, without DISCONNECT.
  for (const connection of first) connection.socket.destroy();
  refusals = 0;
  failures = 0;
  failureCauses.clear();
  latencies.length = 0;
  await sleep(1000);
  // 3. Messages queued for every device while it is away (QoS1, acknowledged by the broker).
  const { connection: publisher, returnCode } = await connectMqtt(endpoint, {
    clientId: params.publisher.clientId,
    password: params.publisher.token,
  });
  if (returnCode !== 0) throw new Error(`publisher CONNACK ${returnCode}`);
  const total = devices.length * params.messagesPerDevice;
  let acked = 0;
  const allAcked = new Promise<void>((resolve) => {
    publisher.onAck = (type) => {
      if (type === PACKET.PUBACK && ++acked === total) resolve();
    };
  });
  const payload = Buffer.alloc(16);
  for (let seq = 0; seq < params.messagesPerDevice; seq++) {
    for (let index = 0; index < devices.length; index++) {
      payload.writeUInt32BE(seq, 0);
      const id = ((seq * devices.length + index) % 65_535) + 1;
      publisher.write(encodePublish(`${(devices[index] as StormDevice).userId}/e`, payload, 1, id));
      if (id % 500 === 0) await sleep(1);
    }
  }
  await Promise.race([allAcked, sleep(params.timeoutMs)]);
  publisher.close();
  // 4. The storm: every device reconnects at once.
  channel.mark('storm-start');
  const cpuAtStart = process.cpuUsage();
  const started = performance.now();
  let backMs = Number.NaN;
  let back = 0;
  const again: MqttConnection[] = [];
  await Promise.race([
    Promise.all(
      devices.map(async (_device, index) => {
        again.push(await connectWithBackoff(index));
        back++;
      }),
    ).then(() => {
      backMs = performance.now() - started;
    }),
    sleep(params.timeoutMs),
  ]);
  const deliveredAll = () => received.every((seqs) => seqs.size >= params.messagesPerDevice);
  const deadline = performance.now() + params.timeoutMs;
  while (!deliveredAll() && performance.now() < deadline) await sleep(50);
  channel.mark('storm-end');
  const { user, system } = process.cpuUsage(cpuAtStart);
  for (const connection of again) connection.close();
  const delivered = received.reduce((sum, seqs) => sum + seqs.size, 0);
  return {
    devices: devices.length,
    back,
    backMs,
    connackP50Ms: percentile(latencies, 50),
    connackP99Ms: percentile(latencies, 99),
    refusals,
    failures,
    failureCauses: Object.fromEntries(failureCauses),
    expected: total,
    lost: Math.min(acked, total) - delivered,
    duplicates,
    generatorCpuMicros: user + system,
  };
});
