// Scenario 1: connection storm with valid (HS256, RS256, ES256) and invalid (bad signature, expired)
// tokens over TCP, and HS256 over TLS and over WSS (MQTT over secure WebSocket, /mqtt) with a full and
// with a resumed handshake. Headline: broker CPU
// per connect (read from /proc around each broker's own rounds). Beside every rate: the generators'
// CPU per connect and load, and a note naming the systems whose rate the generators bound.
// Two kinds of valid connect: a first one, whose token the broker has never seen (each repetition and
// each warm-up signs new ones, with a jti of their own), and a reconnect with the token the device used
// before (every device connects once before the measured rounds): Cashew recalls its verification
// (JWT_CACHE_SIZE, broker/auth/token-cache.ts), so the two are reported apart.
import { randomUUID } from 'node:crypto';
import { userClaims, type SigningAlgorithm, type TokenKind } from '../lib/tokens.ts';
import {
  HOST,
  SYSTEM_LABELS,
  startCashew,
  startMosquitto,
  startRawAedes,
  type BrokerProcess,
  type SystemName,
} from '../lib/systems.ts';
import type { ResultRow, Target } from '../lib/report.ts';
import {
  GENERATOR_BOUND_LOAD,
  generatorCores,
  runDrivenStorm,
  warmupLike,
  type DrivenTotals,
} from './connect-driver.ts';
import {
  caseSelected,
  endpointOf,
  loopbackAddresses,
  pushRuns,
  rotation,
  type BenchContext,
  type Transport,
} from './context.ts';

type Handshake = 'none' | 'full' | 'resumed';

interface StormCase {
  readonly kind: TokenKind;
  /** A reconnect: each token was presented once before the measured rounds. */
  readonly again?: true;
  /** TCP has no handshake ('none'); TLS and WSS have a full or a resumed one. */
  readonly transport: Transport;
  readonly handshake: Handshake;
  /** On broker CPU per connect, Cashew ÷ raw Aedes. */
  readonly target?: Target;
}

const CASES: readonly StormCase[] = [
  { kind: 'HS256', transport: 'TCP', handshake: 'none', target: { kind: 'ratio-max', value: 0.8 } },
  { kind: 'RS256', transport: 'TCP', handshake: 'none', target: { kind: 'ratio-max', value: 0.8 } },
  { kind: 'ES256', transport: 'TCP', handshake: 'none', target: { kind: 'ratio-max', value: 1.0 } },
  {
    kind: 'HS256',
    again: true,
    transport: 'TCP',
    handshake: 'none',
    target: { kind: 'ratio-max', value: 0.8 },
  },
  {
    kind: 'RS256',
    again: true,
    transport: 'TCP',
    handshake: 'none',
    target: { kind: 'ratio-max', value: 0.8 },
  },
  {
    kind: 'ES256',
    again: true,
    transport: 'TCP',
    handshake: 'none',
    target: { kind: 'ratio-max', value: 1.0 },
  },
  { kind: 'invalid signature', transport: 'TCP', handshake: 'none' },
  { kind: 'expired', transport: 'TCP', handshake: 'none' },
  { kind: 'HS256', transport: 'TLS', handshake: 'full', target: { kind: 'ratio-max', value: 0.9 } },
  { kind: 'HS256', transport: 'TLS', handshake: 'resumed' },
  { kind: 'HS256', transport: 'WSS', handshake: 'full' },
  { kind: 'HS256', transport: 'WSS', handshake: 'resumed' },
];

/**
 * A resumed TLS connect should cost at most this share of a full one (Cashew's broker CPU); held to
 * WSS too, whose handshake is the same TLS one (plus the HTTP upgrade on both sides of the ratio).
 */
const RESUMED_SHARE_TARGET = 0.6;

function algorithmOf(kind: TokenKind): SigningAlgorithm {
  return kind === 'RS256' || kind === 'ES256' ? kind : 'HS256';
}

function caseNameOf(storm: StormCase): string {
  if (storm.again === true) return `${storm.kind} reconnect (token seen before)`;
  if (storm.handshake === 'none') return storm.kind;
  return `${storm.kind} (${storm.transport} ${storm.handshake} handshake)`;
}

type Runs = Partial<Record<SystemName, number[]>>;

interface CaseRuns {
  rate: Runs;
  p50: Runs;
  p99: Runs;
  cpu: Runs;
  generatorCpu: Runs;
  generatorLoad: Runs;
  resumed: Runs;
  bound: Set<SystemName>;
}

function emptyCaseRuns(): CaseRuns {
  return {
    rate: {},
    p50: {},
    p99: {},
    cpu: {},
    generatorCpu: {},
    generatorLoad: {},
    resumed: {},
    bound: new Set(),
  };
}

function record(
  context: BenchContext,
  runs: CaseRuns,
  system: SystemName,
  name: string,
  totals: DrivenTotals,
) {
  const perSecond = (totals.attempts / totals.wallMs) * 1000;
  const brokerPerConnect = totals.brokerCpuMicros / totals.attempts;
  const generatorPerConnect = totals.generatorCpuMicros / totals.attempts;
  const generatorLoad = totals.generatorCpuMicros / 1000 / totals.wallMs / generatorCores(context);
  if (generatorLoad >= GENERATOR_BOUND_LOAD) runs.bound.add(system);
  pushRuns(runs.rate, system, perSecond);
  pushRuns(runs.p50, system, totals.p50Ms);
  pushRuns(runs.p99, system, totals.p99Ms);
  pushRuns(runs.cpu, system, brokerPerConnect);
  pushRuns(runs.generatorCpu, system, generatorPerConnect);
  pushRuns(runs.generatorLoad, system, generatorLoad * 100);
  pushRuns(runs.resumed, system, (100 * totals.resumed) / totals.attempts);
  if (totals.failed > 0) context.log(`  ${system} ${name}: ${totals.failed} connections failed`);
  context.log(
    `  1 ${name} ${system}: ${Math.round(perSecond)}/s, broker ${brokerPerConnect.toFixed(0)} µs/connect, ` +
      `generators ${generatorPerConnect.toFixed(0)} µs/connect (${(generatorLoad * 100).toFixed(0)} % load), ` +
      `p50 ${totals.p50Ms.toFixed(2)} ms, accepted ${totals.accepted}, refused ${totals.refused}, ` +
      `resumed ${totals.resumed}`,
  );
}

function rowsOf(storm: StormCase, runs: CaseRuns): ResultRow[] {
  const caseName = caseNameOf(storm);
  const { transport } = storm;
  const valid = storm.kind === 'HS256' || storm.kind === 'RS256' || storm.kind === 'ES256';
  const bound = [...runs.bound].map((system) => SYSTEM_LABELS[system]);
  const notes = [
    ...(valid ? [] : ['raw Aedes and Mosquitto check no token: they accept these connections']),
    ...(bound.length > 0
      ? [
          `generator-bound for ${bound.join(', ')} (generators ≥ ${GENERATOR_BOUND_LOAD * 100} % of their cores)`,
        ]
      : []),
  ];
  const base = { scenario: '1 connect', case: caseName, transport } as const;
  const rows: ResultRow[] = [
    {
      ...base,
      metric: 'broker CPU µs/connect',
      runs: runs.cpu,
      ...(storm.target !== undefined && { target: storm.target }),
    },
    { ...base, metric: 'connects/s', runs: runs.rate, ...(notes.length > 0 && { note: notes.join('; ') }) },
    { ...base, metric: 'generator CPU µs/connect', runs: runs.generatorCpu },
    { ...base, metric: 'generator load %', runs: runs.generatorLoad },
    { ...base, metric: 'CONNACK p50 ms', runs: runs.p50 },
    { ...base, metric: 'CONNACK p99 ms', runs: runs.p99 },
  ];
  if (storm.handshake === 'resumed')
    rows.push({ ...base, metric: 'handshakes resumed %', runs: runs.resumed });
  return rows;
}

/** Per repetition and system: resumed ÷ full broker CPU per connect, over TLS or WSS. */
function resumedShare(
  transport: Transport,
  full: CaseRuns | undefined,
  resumed: CaseRuns | undefined,
): ResultRow | undefined {
  if (full === undefined || resumed === undefined) return undefined;
  const runs: Runs = {};
  for (const [system, values] of Object.entries(resumed.cpu) as [SystemName, number[]][]) {
    const fullValues = full.cpu[system] ?? [];
    runs[system] = values.map((value, index) => value / (fullValues[index] ?? Number.NaN));
  }
  return {
    scenario: '1 connect',
    case: `HS256 ${transport} resumed ÷ full`,
    metric: 'broker CPU share',
    transport,
    runs,
    target: { kind: 'max', value: RESUMED_SHARE_TARGET },
  };
}

export async function connectStorm(context: BenchContext): Promise<void> {
  const count = context.quick ? 400 : 2000;
  // One Cashew per algorithm (each trusts one key), and one raw Aedes beside each, serving the same
  // cases: every Node broker then sits idle through the same other cases. With one raw Aedes serving
  // all, only Cashew's instances idled, and V8's memory reducer may shrink an idle heap (its first GC
  // comes 8 s after the allocation rate drops). Cashew's first repetition of a case still tends to
  // cost more than its others; the trials are in docs/performance.md (stop 20).
  const brokers = new Map<string, BrokerProcess>();
  for (const alg of ['HS256', 'RS256', 'ES256'] as const) {
    brokers.set(
      `cashew:${alg}`,
      await startCashew(context.keys.settings[alg], context.tls, context.brokerCpus),
    );
    brokers.set(`aedes:${alg}`, await startRawAedes(context.tls, context.brokerCpus));
  }
  if (context.systems.includes('mosquitto'))
    brokers.set('mosquitto', await startMosquitto(context.tls, context.brokerCpus));
  const byCase = new Map<string, CaseRuns>();
  try {
    // JIT warm-up of every broker before any measurement: every instance starts cold.
    const warmup = context.quick ? 600 : 1500;
    for (const [name, broker] of brokers) {
      const kind: TokenKind = name.startsWith('cashew:') ? (name.slice(7) as SigningAlgorithm) : 'HS256';
      await runDrivenStorm(context, {
        targets: [{ name, endpoint: { host: HOST, port: broker.port }, broker }],
        clients: Array.from({ length: warmup }, (_, index) => ({
          clientId: `w${index}/storm`,
          token: context.keys.sign(kind, userClaims(`w${index}`)),
        })),
        concurrency: 20,
        chunk: warmup,
        warmup: 0,
        localAddresses: loopbackAddresses(2, 190),
      });
    }
    let round = 0;
    for (const storm of CASES) {
      const caseName = caseNameOf(storm);
      if (!caseSelected(context, caseName)) continue;
      const signed = (prefix: string, length: number) =>
        Array.from({ length }, (_, index) => ({
          clientId: `${prefix}${index}/storm`,
          token: context.keys.sign(storm.kind, { ...userClaims(`${prefix}${index}`), jti: randomUUID() }),
        }));
      const seen = storm.again === true ? signed('s', count) : undefined;
      const runs = emptyCaseRuns();
      for (let repetition = 0; repetition < context.repetitions; repetition++) {
        // A first connect: tokens no broker has seen, in the warm-up as in the measured rounds.
        const clients = seen ?? signed('s', count);
        const targets = rotation(context.systems, repetition).flatMap((system) => {
          const broker = brokers.get(
            system === 'mosquitto' ? system : `${system}:${algorithmOf(storm.kind)}`,
          );
          if (broker === undefined) return [];
          return [
            {
              name: system,
              broker,
              endpoint: endpointOf(broker, storm.transport),
              ...(storm.handshake === 'resumed' && { resume: true }),
            },
          ];
        });
        round++;
        const totals = await runDrivenStorm(context, {
          targets,
          clients,
          ...warmupLike(seen, () => signed('w', count), repetition, count),
          concurrency: 20,
          chunk: 100,
          localAddresses: loopbackAddresses(4, round * 4),
        });
        for (const target of targets) {
          const measured = totals.get(target.name);
          if (measured !== undefined) record(context, runs, target.name, caseName, measured);
        }
      }
      byCase.set(caseName, runs);
      context.rows.push(...rowsOf(storm, runs));
    }
    for (const transport of ['TLS', 'WSS'] as const) {
      const share = resumedShare(
        transport,
        byCase.get(`HS256 (${transport} full handshake)`),
        byCase.get(`HS256 (${transport} resumed handshake)`),
      );
      if (share !== undefined) context.rows.push(share);
    }
  } finally {
    await Promise.all([...brokers.values()].map((broker) => broker.stop()));
  }
}
