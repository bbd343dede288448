// `npm run bench` (full sizes) and `npm run bench -- --quick` (small sizes): Cashew vs raw Aedes vs
// Mosquitto, brokers pinned to one core, load generators in separate processes on the other(s),
// broker CPU per operation read from /proc. Prints the table and writes bench/results/<mode>.{json,md,svg}.
// A full run takes over an hour here (scenario 7's 10,000-device storms, six per repetition); select
// with `--only` and `--repetitions` (docs/performance.md gives each scenario's time); `--cert rsa` runs the
// TLS and WSS cases with an RSA-2048 certificate instead of the dev certificate's ECDSA P-256 key.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchCertificate, certificateKind, CERTIFICATE_LABELS } from './lib/certificates.ts';
import { cpuCount } from './lib/proc.ts';
import { machineInfo } from './lib/report.ts';
import { writeResults } from './lib/output.ts';
import { mosquittoAvailable, MOSQUITTO_BINARY, scratchDir, SYSTEMS, type SystemName } from './lib/systems.ts';
import { createBenchKeys } from './lib/tokens.ts';
import type { BenchContext } from './scenarios/context.ts';
import { connectStorm } from './scenarios/connect-storm.ts';
import { idleMemory } from './scenarios/idle-memory.ts';
import { liveSubscriptions } from './scenarios/live-subscriptions.ts';
import { messaging } from './scenarios/messaging.ts';
import { reconnectStorm } from './scenarios/reconnect-storm.ts';
import { requests } from './scenarios/requests.ts';
import { subscribeRate } from './scenarios/subscribe-rate.ts';

const SCENARIOS: Record<string, (context: BenchContext) => Promise<void>> = {
  '1': connectStorm,
  '2': messaging,
  '4': subscribeRate,
  '5': liveSubscriptions,
  '6': requests,
  '3': idleMemory,
  '7': reconnectStorm,
};

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

function versionOf(pkg: string): string {
  const path = fileURLToPath(new URL(`../node_modules/${pkg}/package.json`, import.meta.url));
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      case: { type: 'string' },
      repetitions: { type: 'string' },
      'no-mosquitto': { type: 'boolean', default: false },
      cert: { type: 'string', default: 'ec' },
    },
  });
  const quick = values.quick === true;
  const repetitions = Number(values.repetitions ?? (quick ? 1 : 3));
  const systems: SystemName[] = SYSTEMS.filter(
    (system) => system !== 'mosquitto' || (mosquittoAvailable() && values['no-mosquitto'] !== true),
  );
  if (!systems.includes('mosquitto')) {
    log(
      `Mosquitto not found at ${MOSQUITTO_BINARY}: install it (Debian/Ubuntu: sudo apt-get install mosquitto) ` +
        'or set MOSQUITTO=/path/to/mosquitto; continuing with Cashew and raw Aedes only.',
    );
  }
  const cores = cpuCount();
  const brokerCpus = cores > 1 ? String(cores - 1) : undefined;
  const generatorCpus = cores > 1 ? `0-${cores - 2}` : undefined;
  const certificate = certificateKind(values.cert);
  const context: BenchContext = {
    quick,
    repetitions,
    brokerCpus,
    generatorCpus,
    tls: await benchCertificate(certificate),
    keys: createBenchKeys(scratchDir()),
    systems,
    rows: [],
    caseFilter: values.case,
    log,
  };
  const selected = values.only?.split(',') ?? Object.keys(SCENARIOS);
  const startedAt = new Date();
  log(
    `cashew bench (${quick ? 'quick' : 'full'}): ${repetitions} repetition(s), brokers on CPU ${brokerCpus ?? 'any'}, ` +
      `generators on CPU ${generatorCpus ?? 'any'}, systems: ${systems.join(', ')}, TLS certificate ${CERTIFICATE_LABELS[certificate]}`,
  );
  for (const [id, scenario] of Object.entries(SCENARIOS)) {
    if (!selected.includes(id)) continue;
    const began = Date.now();
    log(`scenario ${id}…`);
    await scenario(context);
    log(`scenario ${id} done in ${((Date.now() - began) / 1000).toFixed(0)} s`);
  }
  writeResults({
    mode: quick ? 'quick' : 'full',
    startedAt: startedAt.toISOString(),
    durationSec: (Date.now() - startedAt.getTime()) / 1000,
    repetitions,
    brokerCpus,
    generatorCpus,
    machine: machineInfo(),
    certificate: CERTIFICATE_LABELS[certificate],
    versions: { aedes: versionOf('aedes'), 'mqtt-packet': versionOf('mqtt-packet'), node: process.version },
    rows: context.rows,
  });
}

await main();
