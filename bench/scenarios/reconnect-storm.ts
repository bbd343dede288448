// Scenario 7: reconnect storm. A fleet of devices with persistent sessions (a QoS1 subscription,
// messages queued while away) over MQTTS, then another over WSS (MQTT over secure WebSocket; one row set
// per transport), drops at once and reconnects with the SDK's backoff. Cashew
// runs with its default connect limits (CONNECT_RATE_PER_ADDRESS 50/s, burst 200): the devices come
// from `NAT_ADDRESSES` source addresses, as fleets behind carrier NATs do. Reports the time until all
// are back, CONNACK p50/p99, refusals, messages lost (must be 0), broker CPU per reconnect.
import type { ReconnectStormResult } from '../load/reconnect-storm.ts';
import { handlerClaims, userClaims } from '../lib/tokens.ts';
import {
  startCashew,
  startMosquitto,
  startRawAedes,
  type BrokerProcess,
  type SystemName,
} from '../lib/systems.ts';
import type { StormDevice } from '../load/reconnect-storm.ts';
import {
  caseSelected,
  cpuBetween,
  endpointOf,
  loopbackAddresses,
  pushRuns,
  rotation,
  runLoad,
  type BenchContext,
  type Transport,
} from './context.ts';

/** Devices share this many source addresses (20 NATs: 500 devices each at 10,000). */
const NAT_ADDRESSES = 20;
const MESSAGES_PER_DEVICE = 3;

async function startSystem(context: BenchContext, system: SystemName): Promise<BrokerProcess> {
  if (system === 'cashew')
    return startCashew(
      { ...context.keys.settings.HS256, CONNECT_RATE_PER_ADDRESS: '50', CONNECT_BURST_PER_ADDRESS: '200' },
      context.tls,
      context.brokerCpus,
    );
  if (system === 'aedes') return startRawAedes(context.tls, context.brokerCpus);
  return startMosquitto(context.tls, context.brokerCpus);
}

/** The storm's transports, each with its own rows; the case names the word for it. */
const TRANSPORTS = [
  { transport: 'TLS', label: 'MQTTS' },
  { transport: 'WSS', label: 'WSS' },
] as const satisfies readonly { transport: Transport; label: string }[];

type Runs = Partial<Record<SystemName, number[]>>;

async function stormOver(
  context: BenchContext,
  transport: Transport,
  caseName: string,
  devices: readonly StormDevice[],
  publisher: { readonly clientId: string; readonly token: string },
): Promise<void> {
  const count = devices.length;
  const runs: Record<'back' | 'p50' | 'p99' | 'refusals' | 'lost' | 'cpu' | 'generatorCpu', Runs> = {
    back: {},
    p50: {},
    p99: {},
    refusals: {},
    lost: {},
    cpu: {},
    generatorCpu: {},
  };
  for (let repetition = 0; repetition < context.repetitions; repetition++) {
    for (const system of rotation(context.systems, repetition)) {
      const broker = await startSystem(context, system);
      try {
        const measured = await runLoad<ReconnectStormResult>(context, broker, 'reconnect-storm', {
          endpoint: endpointOf(broker, transport),
          devices,
          publisher,
          messagesPerDevice: MESSAGES_PER_DEVICE,
          localAddresses: loopbackAddresses(NAT_ADDRESSES, 120 + repetition * NAT_ADDRESSES),
          timeoutMs: 120_000,
        });
        const result = measured.result;
        const cpu = cpuBetween(measured, 'storm-start', 'storm-end') / count;
        pushRuns(runs.back, system, result.backMs / 1000);
        pushRuns(runs.p50, system, result.connackP50Ms);
        pushRuns(runs.p99, system, result.connackP99Ms);
        pushRuns(runs.refusals, system, result.refusals);
        pushRuns(runs.lost, system, result.lost);
        pushRuns(runs.cpu, system, cpu);
        pushRuns(runs.generatorCpu, system, result.generatorCpuMicros / count);
        context.log(
          `  7 reconnect storm ${transport} ${system}: ${result.back}/${result.devices} back in ${(result.backMs / 1000).toFixed(2)} s, ` +
            `CONNACK p50 ${result.connackP50Ms.toFixed(1)} ms p99 ${result.connackP99Ms.toFixed(1)} ms, ` +
            `refusals ${result.refusals}, failures ${result.failures} ${JSON.stringify(result.failureCauses)}, lost ${result.lost} of ${result.expected}, ` +
            `duplicates ${result.duplicates}, broker ${cpu.toFixed(0)} µs/reconnect, ` +
            `generator ${(result.generatorCpuMicros / count).toFixed(0)} µs/reconnect`,
        );
      } finally {
        await broker.stop();
      }
    }
  }
  const base = { scenario: '7 reconnect storm', case: caseName, transport } as const;
  context.rows.push(
    { ...base, metric: 'time until all back s', runs: runs.back, target: { kind: 'ratio-max', value: 1.0 } },
    { ...base, metric: 'CONNACK p50 ms', runs: runs.p50 },
    { ...base, metric: 'CONNACK p99 ms', runs: runs.p99 },
    {
      ...base,
      metric: 'refusals',
      runs: runs.refusals,
      note: `Cashew with its default connect limits (50/s, burst 200 per address); devices behind ${NAT_ADDRESSES} addresses`,
    },
    { ...base, metric: 'messages lost', runs: runs.lost, target: { kind: 'max', value: 0 } },
    { ...base, metric: 'broker CPU µs/reconnect', runs: runs.cpu },
    { ...base, metric: 'generator CPU µs/reconnect', runs: runs.generatorCpu },
  );
}

export async function reconnectStorm(context: BenchContext): Promise<void> {
  const count = context.quick ? 1000 : 10_000;
  const devices = Array.from({ length: count }, (_, index) => ({
    userId: `r${index}`,
    clientId: `r${index}/phone`,
    token: context.keys.sign('HS256', userClaims(`r${index}`)),
  }));
  const publisher = {
    clientId: '$handler/storm/1',
    token: context.keys.sign('HS256', handlerClaims('storm')),
  };
  for (const { transport, label } of TRANSPORTS) {
    const caseName = `${count} devices, ${label}`;
    if (caseSelected(context, caseName)) await stormOver(context, transport, caseName, devices, publisher);
  }
}
