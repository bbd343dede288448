// Before/after one change: broker CPU per CONNECT of this checkout's Cashew ("after"), another
// checkout's ("before", e.g. `git archive` of the base commit with node_modules linked), this checkout
// under other settings (`--variant name:SETTING=value,...`, e.g. `nocache:JWT_CACHE_SIZE=0`) and raw
// Aedes, measured in the same interleaved rounds (bench/scenarios/connect-driver.ts), paired per round.
//
//   node --import tsx bench/compare.ts [--before /tmp/cashew-before] [--variant name:SETTING=value]
//        [--count 1000] [--rounds 6] [--alg HS256|RS256|ES256] [--handshake none|full|resumed]
//        [--tokens first|again]
//
// `--tokens first` (the default): every round and its warm-up sign tokens no broker has seen (a jti of
// their own each), as scenario 1's first-connect rows do. `again`: one set of tokens, presented twice in
// the warm-up and then in every round (a reconnect with the token used before: JWT_CACHE_SIZE).
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureDevCertificates } from '../certs/dev-certs.ts';
import { cpuCount } from './lib/proc.ts';
import { median } from './lib/stats.ts';
import { HOST, scratchDir, startCashew, startRawAedes, type BrokerProcess } from './lib/systems.ts';
import { createBenchKeys, userClaims, type SigningAlgorithm } from './lib/tokens.ts';
import { runDrivenStorm, warmupLike } from './scenarios/connect-driver.ts';
import { loopbackAddresses, rotation, type BenchContext } from './scenarios/context.ts';

const { values } = parseArgs({
  options: {
    before: { type: 'string' },
    count: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '6' },
    alg: { type: 'string', default: 'HS256' },
    handshake: { type: 'string', default: 'none' },
    tokens: { type: 'string', default: 'first' },
    variant: { type: 'string', multiple: true, default: [] },
  },
});
const count = Number(values.count);
const rounds = Number(values.rounds);
const alg = values.alg as SigningAlgorithm;
const handshake = values.handshake as 'none' | 'full' | 'resumed';
if (values.tokens !== 'first' && values.tokens !== 'again') throw new Error('--tokens: first or again');
const again = values.tokens === 'again';

/** `name:SETTING=value,SETTING=value` → the extra settings of one more Cashew of this checkout. */
function variantOf(text: string): [string, Record<string, string>] {
  const [name = '', list = ''] = text.split(/:(.*)/s);
  const settings: Record<string, string> = {};
  for (const pair of list.split(',')) {
    const [key = '', value = ''] = pair.split(/=(.*)/s);
    settings[key] = value;
  }
  const reserved = ['before', 'after', 'aedes'];
  if (
    !/^[a-z][\w-]*$/i.test(name) ||
    reserved.includes(name) ||
    Object.keys(settings).some((key) => !/^[A-Z][A-Z0-9_]*$/.test(key))
  )
    throw new Error(
      `--variant ${text}: expected name:SETTING=value[,SETTING=value] (name not ${reserved.join(', ')})`,
    );
  return [name, settings];
}
const variants = values.variant.map(variantOf);
const cores = cpuCount();
const { paths } = await ensureDevCertificates(join(scratchDir(), 'certs'));
const tls = { cert: paths.cert, key: paths.key };
const keys = createBenchKeys(scratchDir());
const context: BenchContext = {
  quick: true,
  repetitions: rounds,
  brokerCpus: cores > 1 ? String(cores - 1) : undefined,
  generatorCpus: cores > 1 ? `0-${cores - 2}` : undefined,
  tls,
  keys,
  systems: ['cashew', 'aedes'],
  rows: [],
  caseFilter: undefined,
  log: (message) => process.stderr.write(`${message}\n`),
};
const brokers = new Map<string, BrokerProcess>();
if (values.before !== undefined)
  brokers.set('before', await startCashew(keys.settings[alg], tls, context.brokerCpus, values.before));
for (const [name, settings] of variants)
  brokers.set(name, await startCashew({ ...keys.settings[alg], ...settings }, tls, context.brokerCpus));
brokers.set('after', await startCashew(keys.settings[alg], tls, context.brokerCpus));
brokers.set('aedes', await startRawAedes(tls, context.brokerCpus));

function targetsOf(names: readonly string[]) {
  return names.map((name) => {
    const broker = brokers.get(name) as BrokerProcess;
    const secure = handshake !== 'none';
    return {
      name,
      broker,
      endpoint: { host: HOST, port: secure ? broker.tlsPort : broker.port, tls: secure },
      ...(handshake === 'resumed' && { resume: true }),
    };
  });
}

/** Clients with tokens no broker has seen (a jti each: two tokens signed in one second differ). */
const clientsOf = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, index) => ({
    clientId: `${prefix}${index}/c`,
    token: keys.sign(alg, { ...userClaims(`${prefix}${index}`), jti: randomUUID() }),
  }));

try {
  const names = [...brokers.keys()];
  const warm = { concurrency: 20, chunk: 1500, warmup: 0, localAddresses: loopbackAddresses(2, 190) };
  await runDrivenStorm(context, { ...warm, targets: targetsOf(names), clients: clientsOf('w', 1500) });
  const perConnect = new Map<string, number[]>(names.map((name) => [name, []]));
  const seen = again ? clientsOf('s', count) : undefined;
  for (let round = 0; round < rounds; round++) {
    const totals = await runDrivenStorm(context, {
      targets: targetsOf(rotation(names, round)),
      clients: seen ?? clientsOf('s', count),
      ...warmupLike(seen, () => clientsOf('w', count), round, count),
      concurrency: 20,
      chunk: 100,
      localAddresses: loopbackAddresses(4, round * 4),
    });
    const line = names.map((name) => {
      const measured = totals.get(name);
      const value = measured === undefined ? Number.NaN : measured.brokerCpuMicros / measured.attempts;
      perConnect.get(name)?.push(value);
      return `${name} ${value.toFixed(0)} µs`;
    });
    process.stdout.write(`round ${round + 1}: ${line.join(', ')}\n`);
  }
  const paired = (a: string, b: string) => {
    const ratios = (perConnect.get(a) ?? []).map(
      (value, index) => value / (perConnect.get(b)?.[index] ?? NaN),
    );
    const above = ratios.filter((value) => value > 1).length;
    return `${a} ÷ ${b}: median ${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}; over 1 in ${above} of ${ratios.length} rounds)`;
  };
  for (const name of names)
    process.stdout.write(`${name}: median ${median(perConnect.get(name) ?? []).toFixed(0)} µs/connect\n`);
  for (const name of names.filter((name) => name !== 'after' && name !== 'aedes'))
    process.stdout.write(`${paired('after', name)}\n`);
  for (const name of names.filter((name) => name !== 'aedes'))
    process.stdout.write(`${paired(name, 'aedes')}\n`);
} finally {
  await Promise.all([...brokers.values()].map((broker) => broker.stop()));
}
