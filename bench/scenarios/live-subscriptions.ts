// Scenario 5: the original system's claim, one instance with 50,000 live subscriptions handling 5,000
// publishes/s. Verifies it, checks 10,000/s (the target), then climbs to the highest rate it holds.
// A rate is held when ≥ 99.5 % of the publishes are delivered and the delivery p99 stays ≤ 100 ms.
import type { FleetIdentity } from '../load/fleet.ts';
import { handlerClaims, userClaims } from '../lib/tokens.ts';
import {
  HOST,
  startCashew,
  startMosquitto,
  startRawAedes,
  type BrokerProcess,
  type SystemName,
} from '../lib/systems.ts';
import { LoadWorker, sleep } from '../lib/workers.ts';
import { loopbackAddresses, pushRuns, rotation, type BenchContext } from './context.ts';

const HELD_DELIVERY = 0.995;
const HELD_P99_MS = 100;

interface Setup {
  readonly broker: BrokerProcess;
  readonly fleets: LoadWorker[];
  readonly publisher: LoadWorker;
}

interface StepResult {
  readonly sent: number;
  readonly received: number;
  readonly deliveredPerSec: number;
  readonly p99Ms: number;
  readonly cpuPerPublish: number;
  readonly held: boolean;
}

async function step(setup: Setup, rate: number, durationMs: number): Promise<StepResult> {
  const { broker, fleets, publisher } = setup;
  for (const fleet of fleets) fleet.send({ type: 'command', command: 'reset' });
  await Promise.all(fleets.map((fleet) => fleet.next('reset-done')));
  const cpuBefore = broker.cpu();
  const started = performance.now();
  publisher.send({ type: 'run', rate, durationMs });
  const ran = await publisher.next<{ type: string; sent: number }>('ran');
  // Give deliveries still in flight time to arrive, but no more than a held rate needs.
  let received = 0;
  let p99Ms = 0;
  for (let waited = 0; waited < 1000; waited += 100) {
    await sleep(100);
    for (const fleet of fleets) fleet.send({ type: 'command', command: 'collect' });
    const stats = await Promise.all(
      fleets.map((fleet) => fleet.next<{ type: string; received: number; p99Ms: number }>('stats')),
    );
    received = stats.reduce((sum, item) => sum + item.received, 0);
    p99Ms = Math.max(...stats.map((item) => item.p99Ms));
    if (received >= ran.sent) break;
  }
  const cpu = broker.cpu() - cpuBefore;
  const elapsedMs = performance.now() - started;
  return {
    sent: ran.sent,
    received,
    deliveredPerSec: (received / Math.min(elapsedMs, durationMs)) * 1000,
    p99Ms,
    cpuPerPublish: cpu / ran.sent,
    held: received >= HELD_DELIVERY * ran.sent && p99Ms <= HELD_P99_MS,
  };
}

/**
 * Broker CPU per publish at `rate`, the systems taking turns in short slices so that a noisy
 * neighbour weighs on all of them alike.
 */
async function interleavedCost(
  setups: ReadonlyMap<SystemName, Setup>,
  order: readonly SystemName[],
  rate: number,
  slices: number,
  sliceMs: number,
): Promise<Map<SystemName, number>> {
  const cpu = new Map<SystemName, number>();
  const sent = new Map<SystemName, number>();
  for (let slice = 0; slice < slices; slice++) {
    for (const system of order) {
      const { broker, publisher } = setups.get(system) as Setup;
      const before = broker.cpu();
      publisher.send({ type: 'run', rate, durationMs: sliceMs });
      const ran = await publisher.next<{ type: string; sent: number }>('ran');
      await sleep(30); // the last deliveries of the slice
      cpu.set(system, (cpu.get(system) ?? 0) + broker.cpu() - before);
      sent.set(system, (sent.get(system) ?? 0) + ran.sent);
    }
  }
  return new Map(order.map((system) => [system, (cpu.get(system) ?? 0) / (sent.get(system) ?? 1)]));
}

async function setUp(
  context: BenchContext,
  system: SystemName,
  clients: number,
  subscriptionsPerClient: number,
  identities: FleetIdentity[],
  publisherToken: string,
): Promise<Setup> {
  const broker =
    system === 'cashew'
      ? await startCashew(context.keys.settings.HS256, context.tls, context.brokerCpus)
      : system === 'aedes'
        ? await startRawAedes(context.tls, context.brokerCpus)
        : await startMosquitto(context.tls, context.brokerCpus);
  const endpoint = { host: HOST, port: broker.port };
  const perFleet = Math.ceil(clients / (context.quick ? 2 : 4));
  const fleets: LoadWorker[] = [];
  for (let offset = 0; offset < clients; offset += perFleet) {
    fleets.push(
      new LoadWorker(
        'fleet',
        {
          endpoint,
          identities: identities.slice(offset, offset + perFleet),
          subscriptionsPerClient,
          localAddresses: loopbackAddresses(2, 150 + offset / 100),
        },
        context.generatorCpus,
      ),
    );
  }
  await Promise.all(fleets.map((fleet) => fleet.next('ready')));
  const publisher = new LoadWorker(
    'publisher',
    {
      endpoint,
      identity: { clientId: '$handler/pub', token: publisherToken },
      userIds: identities.map((identity) => identity.userId),
      subscriptionsPerClient,
      payloadBytes: 64,
    },
    context.generatorCpus,
  );
  await publisher.next('ready');
  return { broker, fleets, publisher };
}

async function tearDown(setup: Setup): Promise<void> {
  setup.publisher.send({ type: 'run', rate: 0, durationMs: 0 });
  for (const fleet of setup.fleets) fleet.send({ type: 'command', command: 'stop' });
  await Promise.all([setup.publisher.result(), ...setup.fleets.map((fleet) => fleet.result())]);
  await setup.broker.stop();
}

export async function liveSubscriptions(context: BenchContext): Promise<void> {
  const clients = context.quick ? 2000 : 10_000;
  const subscriptionsPerClient = 50_000 / clients;
  const durationMs = context.quick ? 1000 : 2000;
  const identities = Array.from({ length: clients }, (_, index) => ({
    userId: `f${index}`,
    clientId: `f${index}/app`,
    token: context.keys.sign('HS256', userClaims(`f${index}`)),
  }));
  const publisherToken = context.keys.sign('HS256', handlerClaims('pub'));
  const setups = new Map<SystemName, Setup>();
  const caseName = `50k subs (${clients.toLocaleString('en-US')} clients × ${subscriptionsPerClient})`;
  try {
    for (const system of context.systems) {
      setups.set(
        system,
        await setUp(context, system, clients, subscriptionsPerClient, identities, publisherToken),
      );
      context.log(`  5 ${system}: ${clients} clients with ${subscriptionsPerClient} subscriptions each`);
    }
    const delivered5k: Partial<Record<SystemName, number[]>> = {};
    const delivered10k: Partial<Record<SystemName, number[]>> = {};
    const p99At10k: Partial<Record<SystemName, number[]>> = {};
    const cpuAt10k: Partial<Record<SystemName, number[]>> = {};
    for (let repetition = 0; repetition < context.repetitions; repetition++) {
      for (const system of rotation(context.systems, repetition)) {
        const setup = setups.get(system) as Setup;
        const at5k = await step(setup, 5000, durationMs);
        const at10k = await step(setup, 10_000, durationMs);
        pushRuns(delivered5k, system, at5k.held ? at5k.deliveredPerSec : 0);
        pushRuns(delivered10k, system, at10k.held ? at10k.deliveredPerSec : 0);
        pushRuns(p99At10k, system, at10k.p99Ms);
        context.log(
          `  5 ${system}: 5k/s ${at5k.held ? 'held' : 'NOT held'} (${at5k.received}/${at5k.sent}), ` +
            `10k/s ${at10k.held ? 'held' : 'NOT held'} (${at10k.received}/${at10k.sent}, p99 ${at10k.p99Ms.toFixed(1)} ms)`,
        );
      }
      const order = rotation(context.systems, repetition);
      const costs = await interleavedCost(setups, order, 10_000, context.quick ? 3 : 8, 300);
      for (const [system, cost] of costs) {
        pushRuns(cpuAt10k, system, cost);
        context.log(`  5 ${system}: ${cost.toFixed(1)} µs/publish at 10k/s (interleaved slices)`);
      }
    }
    // The climb: one pass, interleaved per rate; a system stops at its first rate not held.
    const highest: Partial<Record<SystemName, number[]>> = {};
    const climbing = new Set(context.systems);
    const rates = context.quick ? [15_000] : [15_000, 20_000, 25_000, 30_000, 40_000, 50_000];
    for (const system of context.systems)
      pushRuns(highest, system, delivered10k[system]?.some((v) => v > 0) ? 10_000 : 0);
    for (const rate of rates) {
      for (const system of [...climbing]) {
        const result = await step(setups.get(system) as Setup, rate, durationMs);
        context.log(
          `  5 climb ${system} ${rate}/s: ${result.held ? 'held' : 'NOT held'} ` +
            `(${result.received}/${result.sent}, p99 ${result.p99Ms.toFixed(1)} ms)`,
        );
        if (result.held) (highest[system] as number[])[0] = rate;
        else climbing.delete(system);
      }
    }
    const note =
      `held = ≥ ${HELD_DELIVERY * 100} % delivered and p99 ≤ ${HELD_P99_MS} ms; 0 = not held; ` +
      `climb tried up to ${rates.at(-1)?.toLocaleString('en-US')}/s`;
    context.rows.push(
      {
        scenario: '5 live subs',
        case: caseName,
        metric: 'delivered/s at 5,000 pub/s',
        transport: 'TCP',
        runs: delivered5k,
      },
      {
        scenario: '5 live subs',
        case: caseName,
        metric: 'delivered/s at 10,000 pub/s',
        transport: 'TCP',
        runs: delivered10k,
        target: { kind: 'min', value: 9950 },
      },
      {
        scenario: '5 live subs',
        case: caseName,
        metric: 'p99 ms at 10,000 pub/s',
        transport: 'TCP',
        runs: p99At10k,
      },
      {
        scenario: '5 live subs',
        case: caseName,
        metric: 'broker CPU µs/publish at 10k/s',
        transport: 'TCP',
        runs: cpuAt10k,
        target: { kind: 'ratio-max', value: 1.05 },
      },
      {
        scenario: '5 live subs',
        case: caseName,
        metric: 'highest pub/s held',
        transport: 'TCP',
        runs: highest,
        target: { kind: 'min', value: 10_000 },
        note,
      },
    );
  } finally {
    await Promise.all([...setups.values()].map((setup) => tearDown(setup).catch(() => setup.broker.stop())));
  }
}
