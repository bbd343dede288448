// Scenario 4: SUBSCRIBE rate of one user with 0, 10k and 100k retained messages stored in *other*
// users' partitions. aedes-persistence scans every retained message per filter; Cashew looks in the
// subscriber's partition only.
import type { SubscribeRateResult } from '../load/subscribe-rate.ts';
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

export async function subscribeRate(context: BenchContext): Promise<void> {
  const levels = [0, 10_000, 100_000];
  const brokers = new Map<SystemName, BrokerProcess>();
  brokers.set('cashew', await startCashew(context.keys.settings.HS256, context.tls, context.brokerCpus));
  brokers.set('aedes', await startRawAedes(context.tls, context.brokerCpus));
  if (context.systems.includes('mosquitto'))
    brokers.set('mosquitto', await startMosquitto(context.tls, context.brokerCpus));
  const seeder = { clientId: '$handler/seed', token: context.keys.sign('HS256', handlerClaims('seed')) };
  const subscriber = context.keys.sign('HS256', userClaims('me'));
  let stored = 0;
  let round = 0;
  try {
    for (const level of levels) {
      await Promise.all(
        [...brokers.values()].map((broker) =>
          runLoad(context, broker, 'seed-retained', {
            endpoint: { host: HOST, port: broker.port },
            identity: seeder,
            userPrefix: 'o',
            from: stored,
            to: level,
          }),
        ),
      );
      stored = level;
      const rate: Partial<Record<SystemName, number[]>> = {};
      const cpu: Partial<Record<SystemName, number[]>> = {};
      for (let repetition = 0; repetition < context.repetitions; repetition++) {
        for (const system of rotation(context.systems, repetition)) {
          const broker = brokers.get(system);
          if (broker === undefined) continue;
          round++;
          const measured = await runLoad<SubscribeRateResult>(context, broker, 'subscribe-rate', {
            endpoint: { host: HOST, port: broker.port },
            identity: { clientId: `me/sub${round}`, token: subscriber },
            filterPrefix: 'me/f',
            maxSubscribes: context.quick ? 1000 : 3000,
            maxMs: context.quick ? 1500 : 3000,
            inFlight: 10,
          });
          const { subacks, elapsedMs } = measured.result;
          pushRuns(rate, system, (subacks / elapsedMs) * 1000);
          pushRuns(cpu, system, cpuBetween(measured, 'start', 'end') / subacks);
          context.log(
            `  4 ${level} retained ${system}: ${Math.round((subacks / elapsedMs) * 1000)} SUBACK/s, ` +
              `${(cpuBetween(measured, 'start', 'end') / subacks).toFixed(0)} µs/SUBSCRIBE`,
          );
        }
      }
      const caseName = `${level.toLocaleString('en-US')} retained elsewhere`;
      context.rows.push(
        {
          scenario: '4 subscribe',
          case: caseName,
          metric: 'SUBACK/s',
          transport: 'TCP',
          runs: rate,
          ...(level === 100_000 && { target: { kind: 'min' as const, value: 2000 } }),
        },
        {
          scenario: '4 subscribe',
          case: caseName,
          metric: 'broker CPU µs/SUBSCRIBE',
          transport: 'TCP',
          runs: cpu,
        },
      );
    }
  } finally {
    await Promise.all([...brokers.values()].map((broker) => broker.stop()));
  }
}
