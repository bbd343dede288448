// Instructions per CONNECT+DISCONNECT, counted by callgrind in each broker process: a measure the load
// of a shared machine does not move (CPU time per connect drifts with it; see docs/performance.md).
// Each broker runs under `valgrind --tool=callgrind` with instrumentation off; after a warm-up storm
// (JIT), instrumentation is switched on for exactly one storm of `count` connects, then the counters
// are dumped. User-space instructions only: the kernel's share (loopback send, close) is not counted,
// and it is the same syscalls for the Node brokers.
//
//   node --import tsx bench/instructions.ts [--count 3000] [--warmup 3000] [--before <checkout>] [--alg HS256|RS256|ES256]
//        [--systems cashew,aedes,mosquitto] [--handshake none|full|resumed] [--cert ec|rsa]
//        [--tokens first|again] [--simulate] [--perf-map]
//
// Two counts: every thread's, and the main thread's (the JavaScript, libuv, scavenges). The other
// threads are V8's: TurboFan compiling in the background and concurrent marking (perf, native: ~10-14 %
// of each Node broker's CPU samples; under callgrind 14-27 % after a warm-up of 3,000). After a
// warm-up of 500 they were half or more of the count: TurboFan was still compiling through the counted
// storm, and every count was 2-2.5 times its steady value. Hence 3,000 after 3,000.
// docs/performance.md, "Instructions per CONNECT in steady state".
//
// --tokens again: the counted connects present the tokens of the warm-up (a reconnect; Cashew recalls
// their verification, JWT_CACHE_SIZE); first (the default): tokens no broker has seen.
// --cert rsa: the brokers' certificate has an RSA-2048 key instead of the dev certificate's ECDSA P-256
// (what a full handshake costs the server depends mostly on it; a resumed one skips its signature).
// --simulate: callgrind also simulates the caches and branch predictors (lib/callgrind.ts), and a second
// table gives their misses per connect: whether one broker's instructions cost more cycles each than
// another's (this VM's perf counts no cache misses). About twice as slow. --perf-map: the brokers write
// /tmp/perf-<pid>.map, names for the JIT addresses of the dumps (callgrind_annotate shows them bare).
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { addBrokerNodeArgs, brokerStarters, HOST, scratchDir, type BrokerProcess } from './lib/systems.ts';
import { benchCertificate, certificateKind } from './lib/certificates.ts';
import { brokersUnderCallgrind, dumpedEvents, instrumentationOn } from './lib/callgrind.ts';
import { createBenchKeys, signingAlgorithm, userClaims } from './lib/tokens.ts';
import { LoadWorker } from './lib/workers.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '3000' },
    warmup: { type: 'string', default: '3000' },
    before: { type: 'string' },
    alg: { type: 'string', default: 'HS256' },
    systems: { type: 'string', default: 'cashew,aedes,mosquitto' },
    handshake: { type: 'string', default: 'none' },
    cert: { type: 'string', default: 'ec' },
    tokens: { type: 'string', default: 'first' },
    simulate: { type: 'boolean', default: false },
    'perf-map': { type: 'boolean', default: false },
  },
});
const simulate = values.simulate;
const count = Number(values.count);
const warmupCount = Number(values.warmup);
const alg = signingAlgorithm(values.alg);
const handshake = values.handshake as 'none' | 'full' | 'resumed';
const secure = handshake !== 'none';
const outDir = join(scratchDir(), 'callgrind');
brokersUnderCallgrind(outDir, simulate);
if (values['perf-map']) addBrokerNodeArgs('--perf-basic-prof');

const certificate = certificateKind(values.cert);
const tls = await benchCertificate(certificate);
const keys = createBenchKeys(scratchDir());
const signed = (length = count) =>
  Array.from({ length }, (_, i) => ({
    clientId: `c${i}/p`,
    token: keys.sign(alg, { ...userClaims(`c${i}`), jti: randomUUID() }),
  }));
const again = values.tokens === 'again';

function storm(name: string, broker: BrokerProcess, clients: ReturnType<typeof signed>): Promise<unknown> {
  return new LoadWorker(
    'connect-storm',
    {
      targets: [
        {
          name,
          endpoint: { host: HOST, port: secure ? broker.tlsPort : broker.port, tls: secure },
          ...(handshake === 'resumed' && { resume: true }),
        },
      ],
      clients,
      concurrency: 20,
      chunk: count,
      warmup: 0,
      localAddresses: ['127.0.0.1'],
    },
    undefined,
  ).result();
}

const starters = brokerStarters(values.systems.split(','), keys.settings[alg], tls, values.before);

const perConnect = new Map<string, number>();
const mainPerConnect = new Map<string, number>();
/** Each simulated event per connect (all threads), by system: `--simulate`. */
const eventsPerConnect = new Map<string, Map<string, number>>();
for (const [name, start] of starters) {
  const broker = await start();
  try {
    // Not counted (instrumentation off). With --tokens again, the counted storm presents its first
    // `count` tokens again.
    const warmup = signed(Math.max(count, warmupCount));
    await storm(name, broker, warmup);
    instrumentationOn(broker.pid);
    await storm(name, broker, again ? warmup.slice(0, count) : signed());
    const events = dumpedEvents(outDir, broker.pid);
    perConnect.set(name, (events.get('Ir')?.total ?? 0) / count);
    mainPerConnect.set(name, (events.get('Ir')?.main ?? 0) / count);
    eventsPerConnect.set(
      name,
      new Map([...events].map(([event, counted]) => [event, counted.total / count])),
    );
  } finally {
    await broker.stop();
  }
  const format = (value: number | undefined): string => Math.round(value ?? 0).toLocaleString('en');
  process.stderr.write(
    `${name}: ${format(perConnect.get(name))} instructions/connect, main thread ${format(mainPerConnect.get(name))}\n`,
  );
}

const aedes = perConnect.get('aedes');
const transport = secure
  ? `TLS, ${handshake} handshake, ${certificate === 'rsa' ? 'RSA-2048' : 'ECDSA P-256'} certificate`
  : 'TCP';
const lines = [
  `### Instructions per ${alg} CONNECT+DISCONNECT, ${transport}, ${again ? 'reconnect with a token seen before' : 'first connect'} (callgrind, ${count} connects after a warm-up of ${Math.max(count, warmupCount)})`,
  '',
];
lines.push(
  '| system | instructions/connect, all threads | ÷ raw Aedes | main thread | ÷ raw Aedes |',
  '| --- | ---: | ---: | ---: | ---: |',
);
const ratioTo = (value: number, base: number | undefined): string =>
  base === undefined ? '—' : `${(value / base).toFixed(3)}×`;
for (const [name, value] of perConnect) {
  const main = mainPerConnect.get(name) ?? 0;
  lines.push(
    `| ${name} | ${Math.round(value).toLocaleString('en')} | ${ratioTo(value, aedes)} | ${Math.round(main).toLocaleString('en')} | ${ratioTo(main, mainPerConnect.get('aedes'))} |`,
  );
}
if (simulate) lines.push('', ...simulatedTable());
process.stdout.write(`${lines.join('\n')}\n`);

/**
 * Misses per connect, and a cycle estimate from them: an instruction 1 cycle, a first-level miss 10, a
 * last-level miss 100, a mispredicted branch 10 (a model's weights, not this CPU's timings).
 */
function simulatedTable(): string[] {
  const sum = (events: Map<string, number> | undefined, names: readonly string[]): number =>
    names.reduce((total, name) => total + (events?.get(name) ?? 0), 0);
  const columns: [string, readonly string[]][] = [
    ['instructions', ['Ir']],
    ['L1 instruction misses', ['I1mr']],
    ['L1 data misses', ['D1mr', 'D1mw']],
    ['last-level misses', ['ILmr', 'DLmr', 'DLmw']],
    ['mispredicted branches', ['Bcm', 'Bim']],
  ];
  const estimate = (events: Map<string, number> | undefined): number =>
    sum(events, ['Ir']) +
    10 * sum(events, ['I1mr', 'D1mr', 'D1mw']) +
    100 * sum(events, ['ILmr', 'DLmr', 'DLmw']) +
    10 * sum(events, ['Bcm', 'Bim']);
  const reference = eventsPerConnect.get('aedes');
  const cell = (value: number, base: number | undefined): string =>
    `${Math.round(value).toLocaleString('en')}${base === undefined || base === 0 ? '' : ` (${(value / base).toFixed(2)}×)`}`;
  const out = [
    `Simulated per connect, all threads (÷ raw Aedes in brackets):`,
    '',
    `| system | ${columns.map(([label]) => label).join(' | ')} | cycle estimate |`,
    `| --- |${' ---: |'.repeat(columns.length + 1)}`,
  ];
  for (const [name, events] of eventsPerConnect) {
    const cells = columns.map(([, names]) =>
      cell(sum(events, names), reference === undefined ? undefined : sum(reference, names)),
    );
    cells.push(cell(estimate(events), reference === undefined ? undefined : estimate(reference)));
    out.push(`| ${name} | ${cells.join(' | ')} |`);
  }
  return out;
}
