// Token verification, measured per token and per CONNECT: today's hand-written code against fast-jwt,
// jose and jsonwebtoken, and Cashew's entry point as it is now, for HS256, RS256 and ES256. Every
// candidate runs in every round, in a rotated order (paired): medians and per-round ratios to today.
//
//   taskset -c 0 node --import tsx bench/tokens.ts [--rounds 5] [--tokens 3000] [--connects 400] [--no-connect]
//
// Per token: distinct tokens verified one after the other in this process (pin it with taskset), its
// CPU time (all threads) per token.
// Per CONNECT: one broker per candidate (raw Aedes + Cashew's adapter hooks, bench/servers/aedes-hooks.ts)
// pinned to the last core; the broker's CPU time (from /proc) per CONNECT+DISCONNECT over plain TCP.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureDevCertificates } from '../certs/dev-certs.ts';
import { resolveOptions } from '../broker/options.ts';
import { cpuCount } from './lib/proc.ts';
import { median } from './lib/stats.ts';
import { CANDIDATES, CANDIDATE_LABELS, candidateVerifier, type Candidate } from './lib/token-candidates.ts';
import { createBenchKeys, userClaims, type SigningAlgorithm } from './lib/tokens.ts';
import { HOST, scratchDir, startAedesWithHooks, type BrokerProcess } from './lib/systems.ts';
import { connectMqtt } from './lib/mqtt-wire.ts';
import { sleep, withConcurrency } from './lib/workers.ts';

const ALGORITHMS: readonly SigningAlgorithm[] = ['HS256', 'RS256', 'ES256'];
/** Connection limits out of the way: the bench stands for a fleet of addresses. */
const OPEN_LIMITS = {
  CONNECT_RATE_PER_ADDRESS: '1000000',
  CONNECT_BURST_PER_ADDRESS: '1000000',
  FLAPPING_MAX_CONNECTS: '1000000',
  MAX_CONNECTIONS_PER_USER: '100000',
};

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    tokens: { type: 'string', default: '3000' },
    connects: { type: 'string', default: '400' },
    'no-connect': { type: 'boolean', default: false },
  },
});
const rounds = Number(values.rounds);
const tokenCount = Number(values.tokens);
const connectCount = Number(values.connects);
const keys = createBenchKeys(scratchDir());

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function rotated<T>(items: readonly T[], by: number): T[] {
  return items.map((_, index) => items[(index + by) % items.length] as T);
}

function tokensFor(alg: SigningAlgorithm, count: number, prefix: string): string[] {
  return Array.from({ length: count }, (_, i) => keys.sign(alg, userClaims(`${prefix}${i}`)));
}

type Runs = Map<string, Map<Candidate, number[]>>;

function record(runs: Runs, alg: string, candidate: Candidate, value: number): void {
  const byCandidate = runs.get(alg) ?? new Map<Candidate, number[]>();
  runs.set(alg, byCandidate);
  byCandidate.set(candidate, [...(byCandidate.get(candidate) ?? []), value]);
}

async function perToken(runs: Runs): Promise<void> {
  for (const alg of ALGORITHMS) {
    const options = resolveOptions(keys.settings[alg]).token;
    const verifiers = new Map<Candidate, (token: string) => unknown>();
    for (const candidate of CANDIDATES) verifiers.set(candidate, await candidateVerifier(candidate, options));
    const warm = tokensFor(alg, 3000, 'w'); // JIT: every candidate's path compiled before any round
    for (const verify of verifiers.values()) for (const token of warm) await verify(token);
    for (let round = 0; round < rounds; round++) {
      const tokens = tokensFor(alg, tokenCount, `r${round}-`);
      for (const candidate of rotated(CANDIDATES, round)) {
        const verify = verifiers.get(candidate) as (token: string) => unknown;
        // CPU time of the whole process (all threads): jose's WebCrypto runs in libuv's pool, off
        // this thread, so wall time would flatter it on a machine with a spare core.
        const started = process.cpuUsage();
        for (const token of tokens) await verify(token);
        const { user, system } = process.cpuUsage(started);
        const micros = (user + system) / tokens.length;
        record(runs, alg, candidate, micros);
      }
    }
    log(`per token ${alg}: done`);
  }
}

async function connectAll(broker: BrokerProcess, tokens: readonly string[], prefix: string): Promise<void> {
  await withConcurrency(tokens.length, 10, async (index) => {
    const { connection, returnCode } = await connectMqtt(
      { host: HOST, port: broker.port },
      { clientId: `${prefix}${index}/bench`, password: tokens[index] },
    );
    if (returnCode !== 0) throw new Error(`CONNACK ${returnCode}`);
    connection.close();
  });
}

async function perConnect(runs: Runs): Promise<void> {
  const cores = cpuCount();
  const brokerCpus = cores > 1 ? String(cores - 1) : undefined;
  const { paths } = await ensureDevCertificates(join(scratchDir(), 'certs'));
  for (const alg of ALGORITHMS) {
    const brokers = new Map<Candidate, BrokerProcess>();
    try {
      for (const candidate of CANDIDATES) {
        const settings = { ...keys.settings[alg], ...OPEN_LIMITS };
        const tls = { cert: paths.cert, key: paths.key };
        const env = { CASHEW_BENCH_VERIFIER: candidate };
        brokers.set(candidate, await startAedesWithHooks(settings, tls, brokerCpus, env));
      }
      for (const [candidate, broker] of brokers)
        await connectAll(broker, tokensFor(alg, 500, `w${candidate}-`), `w${candidate}-`);
      for (let round = 0; round < rounds; round++) {
        const tokens = tokensFor(alg, connectCount, `c${round}-`);
        for (const candidate of rotated(CANDIDATES, round)) {
          const broker = brokers.get(candidate) as BrokerProcess;
          await sleep(200);
          const before = broker.cpu();
          await connectAll(broker, tokens, `c${round}-`);
          await sleep(200); // the last DISCONNECTs are handled
          record(runs, alg, candidate, (broker.cpu() - before) / tokens.length);
        }
      }
      log(`per CONNECT ${alg}: done`);
    } finally {
      await Promise.all([...brokers.values()].map((broker) => broker.stop()));
    }
  }
}

function table(title: string, runs: Runs): string {
  const lines = [
    `### ${title} (median of ${rounds} paired rounds; ratio = median of per-round ratios to today)`,
    '',
    `| candidate | ${ALGORITHMS.map((alg) => `${alg} µs | ×today`).join(' | ')} |`,
    `| --- | ${ALGORITHMS.map(() => '---: | ---:').join(' | ')} |`,
  ];
  for (const candidate of CANDIDATES) {
    const cells = ALGORITHMS.map((alg) => {
      const byCandidate = runs.get(alg);
      const mine = byCandidate?.get(candidate) ?? [];
      const today = byCandidate?.get('today') ?? [];
      const ratios = mine.map((value, index) => value / (today[index] ?? Number.NaN));
      return `${median(mine).toFixed(1)} | ${median(ratios).toFixed(2)}`;
    });
    lines.push(`| ${CANDIDATE_LABELS[candidate]} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

const tokenRuns: Runs = new Map();
await perToken(tokenRuns);
process.stdout.write(`${table('Verification CPU per token', tokenRuns)}\n\n`);
if (values['no-connect'] !== true) {
  const connectRuns: Runs = new Map();
  await perConnect(connectRuns);
  process.stdout.write(`${table('Broker CPU per CONNECT + DISCONNECT (plain TCP)', connectRuns)}\n`);
}
