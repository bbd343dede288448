// `node --import tsx bench/attacks.ts`: issue 10's attacks against Cashew with its DEFAULT limits (the
// bench's lifted connect and publish rates are put back), one after another. For each: the broker's
// peak RSS over its idle baseline, its CPU time, and a bystander user's round trip meanwhile.
// Writes bench/results/attacks.md. The broker runs pinned to the last core, this process to the others.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDevCertificates } from '../certs/dev-certs.ts';
import { ATTACKS, type AttackContext } from './attacks/attacks.ts';
import { ProbeProcess } from './attacks/probe.ts';
import { RESULTS_DIR } from './lib/output.ts';
import { cpuCount, cpuMicros, pinProcess, rssBytes } from './lib/proc.ts';
import { HOST, scratchDir, startCashew } from './lib/systems.ts';
import { createBenchKeys, handlerClaims, userClaims } from './lib/tokens.ts';

/** The limits the benchmark lifts (bench/lib/systems.ts), at their defaults again. */
const DEFAULT_LIMITS = {
  CONNECT_RATE_PER_ADDRESS: '50',
  CONNECT_BURST_PER_ADDRESS: '200',
  PUBLISH_RATE: '1000',
  PUBLISH_BURST: '2000',
  HANDLER_PUBLISH_RATE: '20000',
  HANDLER_PUBLISH_BURST: '40000',
};

const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
const ms = (value: number): string => value.toFixed(1);

async function main(): Promise<void> {
  const cores = cpuCount();
  const brokerCpus = cores > 1 ? String(cores - 1) : undefined;
  if (cores > 1) pinProcess(process.pid, `0-${cores - 2}`);
  const { paths } = await ensureDevCertificates(join(scratchDir(), 'certs'));
  const keys = createBenchKeys(scratchDir());
  const broker = await startCashew({ ...keys.settings.HS256, ...DEFAULT_LIMITS }, paths, brokerCpus);
  const mqtts = { host: HOST, port: broker.tlsPort, tls: true };
  const context: AttackContext = {
    mqtts,
    wss: { host: HOST, port: broker.ports.wss ?? 0, tls: true },
    userToken: (userId) => keys.sign('HS256', userClaims(userId)),
    handlerToken: (name) => keys.sign('HS256', handlerClaims(name)),
    badToken: (userId) => keys.sign('invalid signature', userClaims(userId)),
  };
  const rows: string[] = [];
  let idleRss = Number.NaN;
  try {
    const probe = await ProbeProcess.start({
      endpoint: mqtts,
      userId: 'bystander',
      token: context.userToken('bystander'),
      pid: broker.pid,
    });
    idleRss = await broker.settledRss();
    console.log(`broker idle RSS ${mib(idleRss)} MiB (pid ${broker.pid}, CPU ${brokerCpus ?? 'any'})`);
    for (const attack of ATTACKS) {
      const baseline = rssBytes(broker.pid);
      const cpuBefore = cpuMicros(broker.pid);
      const watch = probe.watch();
      const outcome = await attack.run(context).catch((error: unknown) => `FAILED: ${String(error)}`);
      const { bystander, peakRssBytes } = await watch.stop();
      const cpuSec = (cpuMicros(broker.pid) - cpuBefore) / 1e6;
      const row = [
        attack.name,
        outcome,
        `${mib(peakRssBytes)} (+${mib(peakRssBytes - baseline)})`,
        cpuSec.toFixed(1),
        `${ms(bystander.p50Ms)} / ${ms(bystander.p99Ms)} / ${ms(bystander.maxMs)}`,
        `${bystander.lost} of ${bystander.samples + bystander.lost}`,
      ];
      console.log(row.join(' | '));
      rows.push(`| ${row.join(' | ')} |`);
    }
    probe.close();
  } finally {
    await broker.stop();
  }
  const table = [
    `Attacks against Cashew's default limits (${new Date().toISOString()}, \`node --import tsx bench/attacks.ts\`); ` +
      `broker RSS after start and a GC: ${mib(idleRss)} MiB.`,
    '',
    '| attack | what the broker did | peak RSS MiB (over the RSS before it) | broker CPU s | bystander round trip p50 / p99 / max ms | bystander probes lost |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
  writeFileSync(join(RESULTS_DIR, 'attacks.md'), table);
  console.log(`\n${table}`);
}

await main();
