// Scenario 2: point-to-point QoS0 and QoS1, fan-out 1→100, fan-in 100→1 (plain TCP), and p2p QoS0
// over TLS: delivered msg/s, loss, broker CPU µs per delivered message, latency at half saturation.
import type { Identity, TargetResult } from '../load/messaging.ts';
import { userClaims } from '../lib/tokens.ts';
import {
  HOST,
  startCashew,
  startMosquitto,
  startRawAedes,
  type BrokerProcess,
  type SystemName,
} from '../lib/systems.ts';
import {
  caseSelected,
  cpuOfBetween,
  pushRuns,
  rotation,
  runLoadOnAll,
  type BenchContext,
} from './context.ts';

interface MessagingCase {
  readonly name: string;
  readonly publishers: number;
  readonly subscribers: number;
  readonly qos: 0 | 1;
  readonly tls: boolean;
  /** Undelivered publishes allowed in the closed loop. */
  readonly window: number;
  /** Publishes per second in the fixed-rate (cost) phase, the same for every system. */
  readonly fixedRate: number;
}

const CASES: readonly MessagingCase[] = [
  { name: 'p2p QoS0', publishers: 1, subscribers: 1, qos: 0, tls: false, window: 200, fixedRate: 10_000 },
  { name: 'p2p QoS1', publishers: 1, subscribers: 1, qos: 1, tls: false, window: 200, fixedRate: 5000 },
  {
    name: 'fan-out 1→100 QoS0',
    publishers: 1,
    subscribers: 100,
    qos: 0,
    tls: false,
    window: 20,
    fixedRate: 500,
  },
  {
    name: 'fan-in 100→1 QoS0',
    publishers: 100,
    subscribers: 1,
    qos: 0,
    tls: false,
    window: 200,
    fixedRate: 10_000,
  },
  {
    name: 'p2p QoS0 (TLS)',
    publishers: 1,
    subscribers: 1,
    qos: 0,
    tls: true,
    window: 200,
    fixedRate: 10_000,
  },
];

/** Above this share of one core the generator may be what limits the saturation rate. */
const GENERATOR_BUSY = 0.85;

export async function messaging(context: BenchContext): Promise<void> {
  const brokers = new Map<SystemName, BrokerProcess>();
  brokers.set('cashew', await startCashew(context.keys.settings.HS256, context.tls, context.brokerCpus));
  brokers.set('aedes', await startRawAedes(context.tls, context.brokerCpus));
  if (context.systems.includes('mosquitto'))
    brokers.set('mosquitto', await startMosquitto(context.tls, context.brokerCpus));
  const token = context.keys.sign('HS256', userClaims('m'));
  const identities = (role: string, count: number): Identity[] =>
    Array.from({ length: count }, (_, index) => ({ clientId: `m/${role}${index}`, token }));
  try {
    for (const test of CASES) {
      if (!caseSelected(context, test.name)) continue;
      const rate: Partial<Record<SystemName, number[]>> = {};
      const loss: Partial<Record<SystemName, number[]>> = {};
      const cpu: Partial<Record<SystemName, number[]>> = {};
      const cpuSaturated: Partial<Record<SystemName, number[]>> = {};
      const p50: Partial<Record<SystemName, number[]>> = {};
      const p99: Partial<Record<SystemName, number[]>> = {};
      let generatorBusiest = 0;
      for (let repetition = 0; repetition < context.repetitions; repetition++) {
        const order = rotation(context.systems, repetition).filter((system) => brokers.has(system));
        const measured = await runLoadOnAll<Record<string, TargetResult>>(context, brokers, 'messaging', {
          targets: order.map((system) => {
            const broker = brokers.get(system) as BrokerProcess;
            return {
              name: system,
              endpoint: { host: HOST, port: test.tls ? broker.tlsPort : broker.port, tls: test.tls },
            };
          }),
          publishers: identities('p', test.publishers),
          subscribers: identities('s', test.subscribers),
          topic: 'm/t',
          qos: test.qos,
          payloadBytes: 64,
          window: test.window,
          warmupMs: context.quick ? 200 : 400,
          fixedRate: test.fixedRate,
          fixedMs: context.quick ? 600 : 1500,
          sliceMs: 100,
          saturationMs: context.quick ? 500 : 1500,
          latencyMs: context.quick ? 500 : 1000,
          latencyRateFactor: 0.5,
        });
        for (const system of order) {
          const { fixed, saturation, latency } = measured.result[system] as TargetResult;
          const perSecond = (saturation.delivered / saturation.elapsedMs) * 1000;
          const cpuPerMessage = cpuOfBetween(measured, system, 'fixed-start', 'fixed-end') / fixed.delivered;
          const cpuAtSaturation =
            cpuOfBetween(measured, system, `${system}:saturation-start`, `${system}:saturation-end`) /
            saturation.delivered;
          const expected = fixed.expected + saturation.expected + latency.expected;
          const lost = expected - fixed.delivered - saturation.delivered - latency.delivered;
          generatorBusiest = Math.max(generatorBusiest, saturation.generatorCpuMs / saturation.elapsedMs);
          pushRuns(rate, system, perSecond);
          pushRuns(loss, system, (100 * lost) / expected);
          pushRuns(cpu, system, cpuPerMessage);
          pushRuns(cpuSaturated, system, cpuAtSaturation);
          pushRuns(p50, system, latency.p50Ms ?? Number.NaN);
          pushRuns(p99, system, latency.p99Ms ?? Number.NaN);
          context.log(
            `  2 ${test.name} ${system}: ${cpuPerMessage.toFixed(2)} µs/msg at ${fixed.rate}/s, ` +
              `${Math.round(perSecond)} msg/s saturated (${cpuAtSaturation.toFixed(2)} µs/msg), lost ${lost}, ` +
              `p50 ${latency.p50Ms?.toFixed(2)} ms, p99 ${latency.p99Ms?.toFixed(2)} ms at ${Math.round(latency.rate ?? 0)}/s, ` +
              `generator ${((100 * saturation.generatorCpuMs) / saturation.elapsedMs).toFixed(0)}% of a core`,
          );
        }
      }
      const transport = test.tls ? 'TLS' : 'TCP';
      const generatorNote =
        generatorBusiest > GENERATOR_BUSY
          ? `the load generator used up to ${(100 * generatorBusiest).toFixed(0)}% of a core: msg/s may be generator-bound (CPU/msg is not)`
          : `load generator at most ${(100 * generatorBusiest).toFixed(0)}% of a core`;
      context.rows.push(
        {
          scenario: '2 messages',
          case: test.name,
          metric: 'delivered msg/s',
          transport,
          runs: rate,
          note: generatorNote,
        },
        { scenario: '2 messages', case: test.name, metric: 'loss %', transport, runs: loss },
        {
          scenario: '2 messages',
          case: test.name,
          metric: `broker CPU µs/msg @ ${(test.fixedRate * test.subscribers).toLocaleString('en-US')}/s`,
          transport,
          runs: cpu,
          target: { kind: 'ratio-max', value: 1.05 },
        },
        {
          scenario: '2 messages',
          case: test.name,
          metric: 'broker CPU µs/msg saturated',
          transport,
          runs: cpuSaturated,
        },
        { scenario: '2 messages', case: test.name, metric: 'latency p50 ms @ ½ sat.', transport, runs: p50 },
        { scenario: '2 messages', case: test.name, metric: 'latency p99 ms @ ½ sat.', transport, runs: p99 },
      );
    }
  } finally {
    await Promise.all([...brokers.values()].map((broker) => broker.stop()));
  }
}
