// Scenario 1: connection storm with valid (HS256, RS256, ES256) and invalid (bad signature, expired)
// tokens: connects/s, CONNACK p50/p99, broker CPU µs per connect. Plain TCP, plus HS256 over TLS.
import type { ConnectStormResult } from '../load/connect-storm.ts';
import { userClaims, type SigningAlgorithm, type TokenKind } from '../lib/tokens.ts';
import {
  HOST,
  startCashew,
  startMosquitto,
  startRawAedes,
  type BrokerProcess,
  type SystemName,
} from '../lib/systems.ts';
import type { Target } from '../lib/report.ts';
import {
  caseSelected,
  cpuOfBetween,
  loopbackAddresses,
  pushRuns,
  rotation,
  runLoadOnAll,
  type BenchContext,
} from './context.ts';

interface StormCase {
  readonly kind: TokenKind;
  readonly tls: boolean;
  readonly target?: Target;
}

const CASES: readonly StormCase[] = [
  { kind: 'HS256', tls: false, target: { kind: 'ratio-min', value: 0.9 } },
  { kind: 'RS256', tls: false, target: { kind: 'ratio-min', value: 0.9 } },
  { kind: 'ES256', tls: false, target: { kind: 'ratio-min', value: 0.8 } },
  { kind: 'invalid signature', tls: false },
  { kind: 'expired', tls: false },
  { kind: 'HS256', tls: true },
];

function algorithmOf(kind: TokenKind): SigningAlgorithm {
  return kind === 'RS256' || kind === 'ES256' ? kind : 'HS256';
}

export async function connectStorm(context: BenchContext): Promise<void> {
  const count = context.quick ? 300 : 1000;
  const brokers = new Map<string, BrokerProcess>();
  for (const alg of ['HS256', 'RS256', 'ES256'] as const) {
    brokers.set(
      `cashew:${alg}`,
      await startCashew(context.keys.settings[alg], context.tls, context.brokerCpus),
    );
  }
  brokers.set('aedes', await startRawAedes(context.tls, context.brokerCpus));
  if (context.systems.includes('mosquitto'))
    brokers.set('mosquitto', await startMosquitto(context.tls, context.brokerCpus));
  try {
    // JIT warm-up of every broker before any measurement: each Cashew instance (one per algorithm)
    // starts cold, while raw Aedes and Mosquitto serve every case.
    const warmup = context.quick ? 500 : 1500;
    await Promise.all(
      [...brokers].map(async ([name, broker]) => {
        const kind: TokenKind = name.startsWith('cashew:') ? (name.slice(7) as SigningAlgorithm) : 'HS256';
        const clients = Array.from({ length: warmup }, (_, index) => ({
          clientId: `w${index}/storm`,
          token: context.keys.sign(kind, userClaims(`w${index}`)),
        }));
        await runLoadOnAll(context, new Map([[name, broker]]), 'connect-storm', {
          targets: [{ name, endpoint: { host: HOST, port: broker.port } }],
          clients,
          concurrency: 20,
          chunk: warmup,
          warmup: 0,
          localAddresses: loopbackAddresses(2, 190),
        });
      }),
    );
    let round = 0;
    for (const storm of CASES) {
      if (!caseSelected(context, `${storm.kind}${storm.tls ? ' (TLS)' : ''}`)) continue;
      const clients = Array.from({ length: count }, (_, index) => ({
        clientId: `s${index}/storm`,
        token: context.keys.sign(storm.kind, userClaims(`s${index}`)),
      }));
      const rate: Partial<Record<SystemName, number[]>> = {};
      const p50: Partial<Record<SystemName, number[]>> = {};
      const p99: Partial<Record<SystemName, number[]>> = {};
      const cpu: Partial<Record<SystemName, number[]>> = {};
      const caseName = `${storm.kind}${storm.tls ? ' (TLS)' : ''}`;
      for (let repetition = 0; repetition < context.repetitions; repetition++) {
        const targets = new Map<SystemName, BrokerProcess>();
        for (const system of rotation(context.systems, repetition)) {
          const broker = brokers.get(system === 'cashew' ? `cashew:${algorithmOf(storm.kind)}` : system);
          if (broker !== undefined) targets.set(system, broker);
        }
        round++;
        const measured = await runLoadOnAll<Record<string, ConnectStormResult>>(
          context,
          targets,
          'connect-storm',
          {
            targets: [...targets].map(([name, broker]) => ({
              name,
              endpoint: { host: HOST, port: storm.tls ? broker.tlsPort : broker.port, tls: storm.tls },
            })),
            clients,
            concurrency: 20,
            chunk: 100,
            warmup: 100,
            localAddresses: loopbackAddresses(4, round * 4),
          },
        );
        for (const system of targets.keys()) {
          const result = measured.result[system] as ConnectStormResult;
          const perConnect = cpuOfBetween(measured, system, 'start', 'end') / result.attempts;
          const perSecond = (result.attempts / result.elapsedMs) * 1000;
          if (result.failed > 0) context.log(`  ${system} ${caseName}: ${result.failed} connections failed`);
          pushRuns(rate, system, perSecond);
          pushRuns(p50, system, result.p50Ms);
          pushRuns(p99, system, result.p99Ms);
          pushRuns(cpu, system, perConnect);
          context.log(
            `  1 ${caseName} ${system}: ${Math.round(perSecond)}/s, ${perConnect.toFixed(0)} µs/connect, ` +
              `p50 ${result.p50Ms.toFixed(2)} ms, accepted ${result.accepted}, refused ${result.refused}`,
          );
        }
      }
      const transport = storm.tls ? 'TLS' : 'TCP';
      const valid = storm.kind === 'HS256' || storm.kind === 'RS256' || storm.kind === 'ES256';
      const note = valid
        ? undefined
        : 'raw Aedes and Mosquitto check no token: they accept these connections';
      context.rows.push(
        {
          scenario: '1 connect',
          case: caseName,
          metric: 'connects/s',
          transport,
          runs: rate,
          ...(storm.target !== undefined && { target: storm.target }),
          ...(note !== undefined && { note }),
        },
        { scenario: '1 connect', case: caseName, metric: 'CONNACK p50 ms', transport, runs: p50 },
        { scenario: '1 connect', case: caseName, metric: 'CONNACK p99 ms', transport, runs: p99 },
        { scenario: '1 connect', case: caseName, metric: 'broker CPU µs/connect', transport, runs: cpu },
      );
    }
  } finally {
    await Promise.all([...brokers.values()].map((broker) => broker.stop()));
  }
}
