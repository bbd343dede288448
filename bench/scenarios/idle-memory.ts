// Scenario 3: idle authenticated connections (10k, 50k) over TCP, TLS and WSS (MQTT over secure
// WebSocket): broker resident memory per connection after a forced GC. Each repetition starts a fresh
// broker so freed heap from a previous round is not reused.
import { execFileSync } from 'node:child_process';
import type { IdleResult } from '../load/idle.ts';
import { userClaims } from '../lib/tokens.ts';
import {
  startCashew,
  startMosquitto,
  startRawAedes,
  type BrokerProcess,
  type SystemName,
} from '../lib/systems.ts';
import { LoadWorker } from '../lib/workers.ts';
import { sleep } from '../lib/workers.ts';
import type { Target } from '../lib/report.ts';
import {
  caseSelected,
  endpointOf,
  loopbackAddresses,
  pushRuns,
  rotation,
  type BenchContext,
  type Transport,
} from './context.ts';

const PER_WORKER = 5000;

/** The hard limit on open files, the ceiling for connections held by one broker process. */
export function openFilesHardLimit(): number {
  try {
    return Number(execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim());
  } catch {
    return Number.NaN;
  }
}

function start(context: BenchContext, system: SystemName): Promise<BrokerProcess> {
  if (system === 'cashew') return startCashew(context.keys.settings.HS256, context.tls, context.brokerCpus);
  if (system === 'aedes') return startRawAedes(context.tls, context.brokerCpus);
  return startMosquitto(context.tls, context.brokerCpus);
}

async function bytesPerConnection(
  context: BenchContext,
  system: SystemName,
  tokens: string[],
  transport: Transport,
): Promise<number> {
  const broker = await start(context, system);
  try {
    const before = await broker.settledRss();
    const workers: LoadWorker[] = [];
    for (let offset = 0; offset < tokens.length; offset += PER_WORKER) {
      const identities = tokens
        .slice(offset, offset + PER_WORKER)
        .map((token, index) => ({ clientId: `i${offset + index}/idle`, token }));
      workers.push(
        new LoadWorker(
          'idle',
          {
            endpoint: endpointOf(broker, transport),
            identities,
            subscribe: true,
            localAddresses: loopbackAddresses(4, offset / 100),
          },
          context.generatorCpus,
        ),
      );
    }
    let connected = 0;
    for (const worker of workers) connected += Number((await worker.next('connected')).connected);
    await sleep(500);
    const after = await broker.settledRss();
    for (const worker of workers) worker.send({ type: 'close' });
    await Promise.all(workers.map((worker) => worker.result<IdleResult>()));
    const perConnection = (after - before) / connected;
    context.log(
      `  3 ${tokens.length} idle ${transport} ${system}: ${connected} connected, ${perConnection.toFixed(0)} B/connection`,
    );
    return connected < tokens.length * 0.99 ? Number.NaN : perConnection;
  } finally {
    await broker.stop();
  }
}

/** RSS per idle connection: ≤ 0.85× raw Aedes over TCP, ≤ 2× Mosquitto over TLS (issue 13); none for WSS. */
const CASES: readonly { readonly transport: Transport; readonly target?: Target }[] = [
  { transport: 'TCP', target: { kind: 'ratio-max', value: 0.85 } },
  { transport: 'TLS', target: { kind: 'mosquitto-ratio-max', value: 2 } },
  { transport: 'WSS' },
];

export async function idleMemory(context: BenchContext): Promise<void> {
  const sizes = context.quick ? [2000] : [10_000, 50_000];
  const limit = openFilesHardLimit();
  for (const size of sizes) {
    for (const { transport, target } of CASES) {
      // 50,000 over TLS or WSS would take the generators minutes of handshakes for what 10,000 shows.
      if (transport !== 'TCP' && size > 10_000) continue;
      const caseName = `${size.toLocaleString('en-US')} idle, 1 subscription`;
      if (!caseSelected(context, `${caseName} ${transport}`)) continue;
      if (!(size + 100 <= limit)) {
        context.rows.push({
          scenario: '3 memory',
          case: caseName,
          metric: 'RSS bytes/connection',
          transport,
          runs: {},
          note:
            `not measurable here: one broker process must hold ${size} sockets but the open-files hard limit ` +
            `(ulimit -Hn) is ${limit} and cannot be raised without CAP_SYS_RESOURCE`,
        });
        context.log(`  3 ${caseName} ${transport}: skipped (open-files hard limit ${limit})`);
        continue;
      }
      const tokens = Array.from({ length: size }, (_, index) =>
        context.keys.sign('HS256', userClaims(`i${index}`)),
      );
      const perConnection: Partial<Record<SystemName, number[]>> = {};
      for (let repetition = 0; repetition < context.repetitions; repetition++) {
        for (const system of rotation(context.systems, repetition)) {
          pushRuns(perConnection, system, await bytesPerConnection(context, system, tokens, transport));
        }
      }
      context.rows.push({
        scenario: '3 memory',
        case: caseName,
        metric: 'RSS bytes/connection',
        transport,
        runs: perConnection,
        ...(target !== undefined && { target }),
      });
    }
  }
}
