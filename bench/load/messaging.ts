// Scenario 2 load, for every system at once: publishers and subscribers on one topic (p2p 1→1,
// fan-out 1→N, fan-in N→1) on each broker.
// - "fixed" phase: the same fixed rate on every broker, in short slices that alternate between the
//   brokers, so that neighbours' noise falls on all of them alike; the broker CPU of this phase per
//   delivered message is the cost figure.
// - per broker: "saturation", a closed loop with a bounded number of undelivered messages (no flood),
//   then "latency", an open loop at half the saturation rate, timed from a timestamp in the payload.
// - `counted` (bench/instructions-publish.ts): `warmup` messages, then the mark "warm", and on the
//   parent's "go" exactly `count` messages, all delivered, then the mark "done"; in bursts of `burst`
//   messages written at once, each burst delivered before the next.
import { connectMqtt, encodePuback, encodePublish, encodeSubscribe, PACKET } from '../lib/mqtt-wire.ts';
import type { Endpoint, MqttConnection } from '../lib/mqtt-wire.ts';
import { LatencyRecorder, percentile } from '../lib/stats.ts';
import { nowMicros, runWorker, sleep, withConcurrency, type WorkerChannel } from '../lib/workers.ts';

export interface Identity {
  readonly clientId: string;
  readonly token: string;
}

export interface MessagingTarget {
  readonly name: string;
  readonly endpoint: Endpoint;
}

export interface MessagingParams {
  readonly targets: readonly MessagingTarget[];
  readonly publishers: readonly Identity[];
  readonly subscribers: readonly Identity[];
  readonly topic: string;
  readonly qos: 0 | 1;
  readonly payloadBytes: number;
  /** Undelivered publishes allowed in the closed loop. */
  readonly window: number;
  readonly warmupMs: number;
  /** Publishes per second in the fixed phase, and its length per broker, in slices. */
  readonly fixedRate: number;
  readonly fixedMs: number;
  readonly sliceMs: number;
  readonly saturationMs: number;
  readonly latencyMs: number;
  /** Latency phase rate as a fraction of the measured saturation rate. */
  readonly latencyRateFactor: number;
  /** Instead of the timed phases: message counts, for instruction counting (see the header). */
  readonly counted?: { readonly warmup: number; readonly count: number; readonly burst: number };
}

export interface PhaseResult {
  readonly delivered: number;
  readonly expected: number;
  readonly elapsedMs: number;
  readonly generatorCpuMs: number;
  readonly rate?: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
}

export interface TargetResult {
  readonly fixed: PhaseResult;
  readonly saturation: PhaseResult;
  readonly latency: PhaseResult;
}

class Rig {
  delivered = 0;
  published = 0;
  running = false;
  measuring = false;
  /** Called once every message published so far was delivered (the counted mode). */
  #allDelivered: (() => void) | undefined;
  readonly latencies = new LatencyRecorder();
  readonly fanout: number;
  readonly #payload: Buffer;

  constructor(
    readonly params: MessagingParams,
    readonly publishers: MqttConnection[],
    readonly subscribers: MqttConnection[],
  ) {
    this.fanout = subscribers.length;
    this.#payload = Buffer.alloc(params.payloadBytes, 0x61);
    const pubacks = params.qos === 1 ? Array.from({ length: 65536 }, (_, id) => encodePuback(id)) : [];
    for (const subscriber of subscribers) {
      subscriber.onPublish = (_topic, payload, packetQos, messageId) => {
        this.delivered++;
        if (packetQos > 0) subscriber.write(pubacks[messageId] as Buffer);
        if (this.measuring) this.latencies.record((nowMicros() - payload.readDoubleLE(0)) / 1000);
        if (this.running && this.published - this.delivered / this.fanout <= params.window / 2) this.pump();
        if (this.#allDelivered !== undefined && this.delivered >= this.published * this.fanout) {
          this.#allDelivered();
          this.#allDelivered = undefined;
        }
      };
    }
    for (const publisher of publishers) publisher.onAck = () => undefined; // PUBACKs
  }

  publishOne(): void {
    const [publisher, packet] = this.#nextPublish();
    publisher.write(packet);
  }

  #nextPublish(): [MqttConnection, Buffer] {
    const { qos, topic } = this.params;
    const publisher = this.publishers[this.published % this.publishers.length] as MqttConnection;
    this.published++;
    this.#payload.writeDoubleLE(nowMicros(), 0);
    return [
      publisher,
      encodePublish(topic, this.#payload, qos, qos === 0 ? 0 : (this.published % 65535) + 1),
    ];
  }

  pump(): void {
    while (this.running && this.published - this.delivered / this.fanout < this.params.window)
      this.publishOne();
  }

  /**
   * Exactly `count` more publishes, `burst` at a time: each publisher writes its share of a burst in
   * one write (the broker reads them in one chunk), and the next burst waits for every delivery.
   */
  async countedLoop(count: number, burst: number): Promise<void> {
    for (let sent = 0; sent < count; sent += burst) {
      const writes = new Map<MqttConnection, Buffer[]>();
      for (let index = 0; index < Math.min(burst, count - sent); index++) {
        const [publisher, packet] = this.#nextPublish();
        writes.set(publisher, [...(writes.get(publisher) ?? []), packet]);
      }
      const delivered = new Promise<void>((resolve) => (this.#allDelivered = resolve));
      for (const [publisher, packets] of writes) publisher.write(Buffer.concat(packets));
      await delivered;
    }
  }

  async drain(timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.delivered < this.published * this.fanout && Date.now() < deadline) await sleep(2);
  }

  reset(): void {
    this.delivered = 0;
    this.published = 0;
    this.latencies.reset();
  }

  async closedLoop(ms: number): Promise<void> {
    this.running = true;
    this.pump();
    await sleep(ms);
    this.running = false;
    await this.drain();
  }

  /** Publishes at `rate` per second for `ms`, open loop. */
  openLoop(rate: number, ms: number): Promise<void> {
    const started = performance.now();
    const base = this.published;
    return new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const elapsed = Math.min(performance.now() - started, ms);
        const due = base + Math.floor((elapsed / 1000) * rate);
        while (this.published < due) this.publishOne();
        if (elapsed >= ms) {
          clearInterval(timer);
          resolve();
        }
      }, 1);
    });
  }

  result(elapsedMs: number, cpu: NodeJS.CpuUsage, extra: Partial<PhaseResult> = {}): PhaseResult {
    const used = process.cpuUsage(cpu);
    return {
      delivered: this.delivered,
      expected: this.published * this.fanout,
      elapsedMs,
      generatorCpuMs: (used.user + used.system) / 1000,
      ...extra,
    };
  }
}

async function connectAll(endpoint: Endpoint, identities: readonly Identity[]): Promise<MqttConnection[]> {
  return withConcurrency(identities.length, 20, async (index) => {
    const identity = identities[index] as Identity;
    const { connection, returnCode } = await connectMqtt(endpoint, {
      clientId: identity.clientId,
      password: identity.token,
    });
    if (returnCode !== 0) throw new Error(`CONNACK ${returnCode} for ${identity.clientId}`);
    return connection;
  });
}

async function counted(
  { warmup, count, burst }: { warmup: number; count: number; burst: number },
  rigs: Map<string, Rig>,
  channel: WorkerChannel,
): Promise<Record<string, TargetResult>> {
  const results: Record<string, TargetResult> = {};
  for (const [name, rig] of rigs) {
    await rig.countedLoop(warmup, burst);
    rig.reset();
    channel.mark('warm');
    await channel.next('go');
    await rig.countedLoop(count, burst);
    channel.mark('done');
    const phase = rig.result(0, process.cpuUsage());
    results[name] = { fixed: phase, saturation: phase, latency: phase };
    for (const connection of [...rig.publishers, ...rig.subscribers]) connection.close();
  }
  return results;
}

async function rigFor(params: MessagingParams, target: MessagingTarget): Promise<Rig> {
  const subscribers = await connectAll(target.endpoint, params.subscribers);
  const publishers = await connectAll(target.endpoint, params.publishers);
  const rig = new Rig(params, publishers, subscribers);
  await Promise.all(
    subscribers.map(async (subscriber) => {
      const suback = subscriber.next(PACKET.SUBACK);
      subscriber.write(encodeSubscribe(1, [params.topic], params.qos));
      const body = await suback;
      if ((body[2] ?? 0x80) >= 0x80) throw new Error('subscription refused');
    }),
  );
  return rig;
}

runWorker<MessagingParams, Record<string, TargetResult>>(async (params, channel) => {
  const rigs = new Map<string, Rig>();
  for (const target of params.targets) rigs.set(target.name, await rigFor(params, target));
  if (params.counted !== undefined) return counted(params.counted, rigs, channel);

  for (const rig of rigs.values()) {
    await rig.closedLoop(params.warmupMs); // JIT, buffers: not measured
    rig.reset();
  }

  // Fixed rate, interleaved slices.
  const fixedCpu = process.cpuUsage();
  const slices = Math.max(1, Math.round(params.fixedMs / params.sliceMs));
  const fixedElapsed = new Map<string, number>();
  channel.mark('fixed-start');
  for (let slice = 0; slice < slices; slice++) {
    for (const [name, rig] of rigs) {
      const started = performance.now();
      await rig.openLoop(params.fixedRate, params.sliceMs);
      await rig.drain();
      fixedElapsed.set(name, (fixedElapsed.get(name) ?? 0) + performance.now() - started);
    }
  }
  channel.mark('fixed-end');
  const fixed = new Map<string, PhaseResult>();
  for (const [name, rig] of rigs) {
    fixed.set(
      name,
      rig.result(fixedElapsed.get(name) ?? 0, fixedCpu, { rate: params.fixedRate * rig.fanout }),
    );
    rig.reset();
  }

  const results: Record<string, TargetResult> = {};
  for (const [name, rig] of rigs) {
    let cpu = process.cpuUsage();
    channel.mark(`${name}:saturation-start`);
    let started = performance.now();
    await rig.closedLoop(params.saturationMs);
    channel.mark(`${name}:saturation-end`);
    const saturation = rig.result(performance.now() - started, cpu);
    rig.reset();

    const rate = Math.max(
      100,
      ((saturation.delivered / saturation.elapsedMs) * 1000 * params.latencyRateFactor) / rig.fanout,
    );
    rig.measuring = true;
    cpu = process.cpuUsage();
    started = performance.now();
    await rig.openLoop(rate, params.latencyMs);
    await rig.drain();
    rig.measuring = false;
    const latency = rig.result(performance.now() - started, cpu, {
      rate: rate * rig.fanout,
      p50Ms: percentile(rig.latencies.samples, 50),
      p99Ms: percentile(rig.latencies.samples, 99),
    });
    results[name] = { fixed: fixed.get(name) as PhaseResult, saturation, latency };
    for (const connection of [...rig.publishers, ...rig.subscribers]) connection.close();
  }
  return results;
});
