// Scenario 6: request/response through a handler process (Cashew's handler runtime running the `ping`
// example), from a device on the client SDK, at fixed rates: round trip p50/p99 and broker CPU per
// request. Against raw Aedes and Mosquitto the same handler and SDK run (they check no token).
import { fileURLToPath } from 'node:url';
import { stopAll, supervise, type Supervised } from '../../cli/supervisor.ts';
import type { RateResult } from '../load/requests.ts';
import { pinProcess } from '../lib/proc.ts';
import { handlerClaims, userClaims } from '../lib/tokens.ts';
import {
  HOST,
  startCashew,
  startMosquitto,
  startRawAedes,
  type BrokerProcess,
  type SystemName,
} from '../lib/systems.ts';
import { cpuBetween, pushRuns, rotation, runLoad, type BenchContext } from './context.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Starts `cashew handler handlers/examples/ping.ts` against the broker and waits for "handler ready". */
async function startPingHandler(context: BenchContext, broker: BrokerProcess): Promise<Supervised> {
  const handler = supervise({
    name: 'ping handler',
    command: process.execPath,
    args: ['bin/cashew.js', 'handler', 'handlers/examples/ping.ts', '--url', `mqtt://${HOST}:${broker.port}`],
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      LOG_LEVEL: 'info',
      CASHEW_TOKEN: context.keys.sign('HS256', handlerClaims('ping', ['ping'])),
    },
    onLine: (line, stream) => {
      if (stream === 'stderr') process.stderr.write(`${line}\n`);
    },
  });
  if (context.generatorCpus !== undefined) pinProcess(handler.pid, context.generatorCpus);
  await handler.waitForLine((line) => line.msg === 'handler ready', 20_000);
  return handler;
}

export async function requests(context: BenchContext): Promise<void> {
  const rates = [200, 1000];
  const brokers = new Map<SystemName, BrokerProcess>();
  brokers.set('cashew', await startCashew(context.keys.settings.HS256, context.tls, context.brokerCpus));
  brokers.set('aedes', await startRawAedes(context.tls, context.brokerCpus));
  if (context.systems.includes('mosquitto'))
    brokers.set('mosquitto', await startMosquitto(context.tls, context.brokerCpus));
  const handlers: Supervised[] = [];
  try {
    for (const broker of brokers.values()) handlers.push(await startPingHandler(context, broker));
    const token = context.keys.sign('HS256', userClaims('bench'));
    const p50 = rates.map(() => ({}));
    const p99 = rates.map(() => ({}));
    const cpu = rates.map(() => ({}));
    for (let repetition = 0; repetition < context.repetitions; repetition++) {
      for (const system of rotation(context.systems, repetition)) {
        const broker = brokers.get(system);
        if (broker === undefined) continue;
        const measured = await runLoad<RateResult[]>(context, broker, 'requests', {
          url: `mqtt://${HOST}:${broker.port}`,
          token,
          rates,
          durationMs: context.quick ? 600 : 2000,
          warmup: 100,
        });
        measured.result.forEach((result, index) => {
          const perRequest = cpuBetween(measured, `${result.rate}-start`, `${result.rate}-end`) / result.sent;
          pushRuns(p50[index] ?? {}, system, result.p50Ms);
          pushRuns(p99[index] ?? {}, system, result.p99Ms);
          pushRuns(cpu[index] ?? {}, system, perRequest);
          context.log(
            `  6 ${system} ${result.rate}/s: ${result.answered}/${result.sent} answered, p50 ${result.p50Ms.toFixed(2)} ms, ` +
              `p99 ${result.p99Ms.toFixed(2)} ms, ${perRequest.toFixed(0)} µs broker CPU/request`,
          );
        });
      }
    }
    rates.forEach((rate, index) => {
      const caseName = `ping handler @ ${rate}/s`;
      context.rows.push(
        {
          scenario: '6 request',
          case: caseName,
          metric: 'round trip p50 ms',
          transport: 'TCP',
          runs: p50[index] ?? {},
        },
        {
          scenario: '6 request',
          case: caseName,
          metric: 'round trip p99 ms',
          transport: 'TCP',
          runs: p99[index] ?? {},
        },
        {
          scenario: '6 request',
          case: caseName,
          metric: 'broker CPU µs/request',
          transport: 'TCP',
          runs: cpu[index] ?? {},
          note: 'a request is 2 publishes and 2 deliveries (device → handler → device, QoS1) plus the pong event',
        },
      );
    });
  } finally {
    await stopAll(handlers);
    await Promise.all([...brokers.values()].map((broker) => broker.stop()));
  }
}
