// What Node itself costs per CONNECT here, beside Cashew, raw Aedes and Mosquitto: a server that only
// accepts, reads the CONNECT, writes a CONNACK and closes (bench/servers/node-floor.ts), in the same
// driven rounds as scenario 1 (brokers pinned to the last core, interleaved, first connects with tokens
// never seen; HS256 unless --alg says otherwise). What is above the floor is all that any MQTT broker
// on Node can cut (docs/performance.md, "The floor: what Node costs per CONNECT").
//
//   node --import tsx bench/node-floor.ts [--count 2000] [--repetitions 3] [--transport TCP,TLS] [--alg HS256|RS256|ES256]
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { benchCertificate } from './lib/certificates.ts';
import { cpuCount } from './lib/proc.ts';
import { median } from './lib/stats.ts';
import {
  mosquittoAvailable,
  scratchDir,
  startCashew,
  startMosquitto,
  startNodeFloor,
  startRawAedes,
  type BrokerProcess,
} from './lib/systems.ts';
import { createBenchKeys, signingAlgorithm, userClaims } from './lib/tokens.ts';
import { runDrivenStorm, warmupLike } from './scenarios/connect-driver.ts';
import { endpointOf, loopbackAddresses, rotation, type BenchContext } from './scenarios/context.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '2000' },
    repetitions: { type: 'string', default: '3' },
    transport: { type: 'string', default: 'TCP,TLS' },
    alg: { type: 'string', default: 'HS256' },
  },
});
/** A positive whole number from the command line, or a clear error. */
function positive(name: string, value: string | undefined): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new Error(`--${name} ${value}: expected a whole number ≥ 1`);
  return parsed;
}
const count = positive('count', values.count);
const repetitions = positive('repetitions', values.repetitions);
const transports = (values.transport ?? '').split(',').map((transport) => {
  if (transport !== 'TCP' && transport !== 'TLS')
    throw new Error(`--transport ${values.transport}: expected TCP, TLS or TCP,TLS`);
  return transport;
});
const alg = signingAlgorithm(values.alg);
const cores = cpuCount();
const keys = createBenchKeys(scratchDir());
const context: BenchContext = {
  quick: false,
  repetitions,
  brokerCpus: cores > 1 ? String(cores - 1) : undefined,
  generatorCpus: cores > 1 ? `0-${cores - 2}` : undefined,
  tls: await benchCertificate('ec'),
  keys,
  systems: [],
  rows: [],
  caseFilter: undefined,
  log: (message) => process.stderr.write(`${message}\n`),
};
const brokers = new Map<string, BrokerProcess>([
  ['floor', await startNodeFloor(context.tls, context.brokerCpus)],
  ['aedes', await startRawAedes(context.tls, context.brokerCpus)],
  ['cashew', await startCashew(keys.settings[alg], context.tls, context.brokerCpus)],
]);
if (mosquittoAvailable()) brokers.set('mosquitto', await startMosquitto(context.tls, context.brokerCpus));
const signed = (prefix: string) =>
  Array.from({ length: count }, (_, index) => ({
    clientId: `${prefix}${index}/floor`,
    token: keys.sign(alg, { ...userClaims(`${prefix}${index}`), jti: randomUUID() }),
  }));

/** transport → system → broker CPU µs per connect, one per repetition. */
const perConnect = new Map<string, Map<string, number[]>>();
let round = 0;
try {
  for (const transport of transports) {
    const runs = new Map<string, number[]>();
    perConnect.set(transport, runs);
    for (let repetition = 0; repetition < repetitions; repetition++) {
      const targets = rotation([...brokers.keys()], repetition).map((name) => {
        const broker = brokers.get(name) as BrokerProcess;
        return { name, broker, endpoint: endpointOf(broker, transport) };
      });
      round++;
      const totals = await runDrivenStorm(context, {
        targets,
        clients: signed('s'),
        ...warmupLike(undefined, () => signed('w'), repetition, count),
        concurrency: 20,
        chunk: 100,
        localAddresses: loopbackAddresses(4, round * 4),
      });
      for (const [name, measured] of totals) {
        const micros = measured.brokerCpuMicros / measured.attempts;
        if (measured.accepted !== measured.attempts)
          context.log(`  ${transport} ${name}: ${measured.accepted} of ${measured.attempts} accepted`);
        context.log(`  ${transport} repetition ${repetition + 1} ${name}: ${micros.toFixed(0)} µs/connect`);
        (runs.get(name) ?? runs.set(name, []).get(name))?.push(micros);
      }
    }
  }
} finally {
  await Promise.all([...brokers.values()].map((broker) => broker.stop()));
}

const lines = [
  "| transport | system | broker CPU µs/connect (median) | above the floor | ÷ raw Aedes (paired median, spread) | above the floor ÷ raw Aedes' (paired median, spread) |",
  '| --- | --- | ---: | ---: | ---: | ---: |',
];
/** Median and spread of per-repetition ratios. */
function paired(ratios: readonly number[]): string {
  return `${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`;
}
for (const [transport, runs] of perConnect) {
  const floors = runs.get('floor') ?? [];
  const aedes = runs.get('aedes') ?? [];
  const floor = median(floors);
  for (const [name, values] of runs) {
    const whole = values.map((value, index) => value / (aedes[index] ?? Number.NaN));
    const above = values.map(
      (value, index) =>
        (value - (floors[index] ?? Number.NaN)) /
        ((aedes[index] ?? Number.NaN) - (floors[index] ?? Number.NaN)),
    );
    lines.push(
      `| ${transport} | ${name} | ${median(values).toFixed(0)} | ${(median(values) - floor).toFixed(0)} | ${paired(whole)} | ${name === 'floor' ? '—' : paired(above)} |`,
    );
  }
}
process.stdout.write(`${lines.join('\n')}\n`);
