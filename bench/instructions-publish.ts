// Instructions per message, counted by callgrind in each broker process (the message rows of scenario 2,
// in a measure the load of a shared machine does not move). The clients connect and subscribe with
// instrumentation off, then `warmup` messages run (JIT) and a full GC, then instrumentation is on for exactly
// `count` published messages, all delivered to their subscribers, and the counters are dumped. The load
// is scenario 2's generator (bench/load/messaging.ts, its `counted` mode): a closed loop of
// bursts of `burst` messages written at once, each burst delivered before the next (1: each message
// travels alone; scenario 2's fixed rates write ~10 per millisecond tick, which the broker reads in
// chunks of 1 to 10), topic m/t, 64-byte payloads. The count divides evenly into bursts.
//
//   node --import tsx bench/instructions-publish.ts [--pattern p2p|fanin|fanout] [--qos 0|1] [--tls]
//        [--count 5000] [--warmup 20000] [--burst 1] [--before <checkout>] [--systems cashew,aedes]
//        [--perf-map]   (the brokers write /tmp/perf-<pid>.map: names for the JIT addresses of the dumps)
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureDevCertificates } from '../certs/dev-certs.ts';
import type { Identity, MessagingParams } from './load/messaging.ts';
import {
  brokersUnderCallgrind,
  dumpedInstructions,
  instrumentationOn,
  type Counted,
} from './lib/callgrind.ts';
import { addBrokerNodeArgs, brokerStarters, HOST, scratchDir, type BrokerProcess } from './lib/systems.ts';
import { createBenchKeys, userClaims } from './lib/tokens.ts';
import { LoadWorker, sleep } from './lib/workers.ts';

const { values } = parseArgs({
  options: {
    pattern: { type: 'string', default: 'p2p' },
    qos: { type: 'string', default: '0' },
    tls: { type: 'boolean', default: false },
    count: { type: 'string', default: '5000' },
    warmup: { type: 'string', default: '20000' },
    burst: { type: 'string', default: '1' },
    'perf-map': { type: 'boolean', default: false },
    before: { type: 'string' },
    systems: { type: 'string', default: 'cashew,aedes' },
  },
});
const count = Number(values.count);
/** Long enough under valgrind for the sweeping that follows the full GC before the window. */
const SWEEP_PAUSE_MS = 5000;
const qos = values.qos === '1' ? 1 : 0;
const shape = { p2p: [1, 1], fanin: [100, 1], fanout: [1, 100] }[values.pattern ?? 'p2p'];
if (shape === undefined) throw new Error(`--pattern: p2p, fanin or fanout, not ${values.pattern}`);
const [publisherCount, subscriberCount] = shape as [number, number];
const outDir = join(scratchDir(), 'callgrind');
brokersUnderCallgrind(outDir);
// JIT code shows in callgrind as bare addresses; Node's perf map (/tmp/perf-<pid>.map) names them.
if (values['perf-map']) addBrokerNodeArgs('--perf-basic-prof');

const { paths } = await ensureDevCertificates(join(scratchDir(), 'certs'));
const tls = { cert: paths.cert, key: paths.key };
const keys = createBenchKeys(scratchDir());
const token = keys.sign('HS256', userClaims('m'));
const identities = (role: string, n: number): Identity[] =>
  Array.from({ length: n }, (_, index) => ({ clientId: `m/${role}${index}`, token }));

/** Runs the counted load on `broker`; instructions per published message over `count` of them. */
async function measure(name: string, broker: BrokerProcess): Promise<Counted> {
  const params: MessagingParams = {
    targets: [
      { name, endpoint: { host: HOST, port: values.tls ? broker.tlsPort : broker.port, tls: values.tls } },
    ],
    publishers: identities('p', publisherCount),
    subscribers: identities('s', subscriberCount),
    topic: 'm/t',
    qos,
    payloadBytes: 64,
    window: 1,
    warmupMs: 0,
    fixedRate: 0,
    fixedMs: 0,
    sliceMs: 0,
    saturationMs: 0,
    latencyMs: 0,
    latencyRateFactor: 0,
    counted: { warmup: Number(values.warmup), count, burst: Number(values.burst) },
  };
  const worker = new LoadWorker('messaging', params, undefined);
  await worker.next('mark', 3_600_000); // warm
  // A full GC first: every broker starts its window with its heap settled, so that whether a major GC
  // falls inside a short window depends less on what the warm-up left behind.
  await broker.settledRss();
  await sleep(SWEEP_PAUSE_MS); // V8 sweeps after the GC on helper threads: not inside the window
  instrumentationOn(broker.pid);
  worker.send({ type: 'go' });
  await worker.next('mark', 3_600_000); // done
  const { total, main } = dumpedInstructions(outDir, broker.pid);
  process.stderr.write(`${name}: pid ${broker.pid}, dumps in ${outDir}\n`);
  await worker.result();
  return { total: total / count, main: main / count };
}

const starters = brokerStarters((values.systems ?? '').split(','), keys.settings.HS256, tls, values.before);

const perMessage = new Map<string, Counted>();
for (const [name, start] of starters) {
  const broker = await start();
  try {
    perMessage.set(name, await measure(name, broker));
  } finally {
    await broker.stop();
  }
  const counted = perMessage.get(name);
  process.stderr.write(
    `${name}: ${format(counted?.total)} instructions/message, main thread ${format(counted?.main)}\n`,
  );
}

function format(value: number | undefined): string {
  return Math.round(value ?? 0).toLocaleString('en');
}

const aedes = perMessage.get('aedes');
const row = `${values.pattern} ${publisherCount}→${subscriberCount} QoS${qos}${values.tls ? ' over TLS' : ''}`;
const lines = [
  `### Instructions per message, ${row} (callgrind, ${count} messages, burst ${values.burst})`,
  '',
];
lines.push(
  '| system | instructions/message | ÷ raw Aedes | main thread | ÷ raw Aedes |',
  '| --- | ---: | ---: | ---: | ---: |',
);
const ratio = (value: number, base: number | undefined): string =>
  base === undefined ? '—' : `${(value / base).toFixed(3)}×`;
for (const [name, { total, main }] of perMessage) {
  lines.push(
    `| ${name} | ${format(total)} | ${ratio(total, aedes?.total)} | ${format(main)} | ${ratio(main, aedes?.main)} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
