// Drives connect-storm workers in lockstep: every round sends one slice of clients to one broker from
// all generator processes at once; wall time and the generators' CPU are read around each round (the
// parent's clock), so each rate is its broker's own rounds, with the generators' CPU beside it. A row
// whose generators were near their cores' capacity is generator-bound: it measures the generators, and
// is flagged. Broker CPU is each broker process's whole CPU from the first round to the end of a tail
// after the last (TAIL_MS): only its own clients reach it, so work it defers past its round (timers,
// background GC) is its own cost too, and is charged to it.
import type {
  ConnectStormParams,
  ConnectStormResult,
  ConnectStormTarget,
  RoundDoneMessage,
} from '../load/connect-storm.ts';
import type { BrokerProcess } from '../lib/systems.ts';
import { LoadWorker, sleep } from '../lib/workers.ts';
import type { BenchContext } from './context.ts';

/** Generator utilisation (CPU ÷ wall ÷ generator cores) above which a rate is generator-bound. */
export const GENERATOR_BOUND_LOAD = 0.8;

export interface DrivenTotals {
  readonly attempts: number;
  readonly accepted: number;
  readonly refused: number;
  readonly failed: number;
  readonly resumed: number;
  /** Wall time of this target's rounds, ms (parent's clock). */
  readonly wallMs: number;
  /** The broker process's CPU from the first round to the end of the tail (TAIL_MS). */
  readonly brokerCpuMicros: number;
  readonly generatorCpuMicros: number;
  /** Medians over the workers of their CONNACK percentiles. */
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface DrivenStorm {
  readonly targets: readonly (ConnectStormTarget & { readonly broker: BrokerProcess })[];
  readonly clients: ConnectStormParams['clients'];
  /** Who connects in each generator's warm-up; default: the first of its own clients. */
  readonly warmupClients?: ConnectStormParams['clients'];
  readonly concurrency: number;
  readonly chunk: number;
  readonly warmup: number;
  readonly localAddresses: readonly string[];
}

/**
 * A round's warm-up, as long as the round and in the same kind of connect. A first connect (`seen`
 * undefined): other fresh tokens (`fresh()`), so that the new generator processes are warm (a warm-up
 * of 100 left them cold, and every broker, Mosquitto too, was charged 10-20 % more per connect). A
 * reconnect: the devices' own tokens, twice in the first round, so that its warm-up too ends in
 * reconnects (with one pass of first connects, Cashew's first round cost ~35 % more per reconnect).
 */
export function warmupLike(
  seen: DrivenStorm['clients'] | undefined,
  fresh: () => DrivenStorm['clients'],
  round: number,
  count: number,
): Pick<DrivenStorm, 'warmup' | 'warmupClients'> {
  if (seen === undefined) return { warmupClients: fresh(), warmup: count };
  return round === 0 ? { warmupClients: [...seen, ...seen], warmup: 2 * count } : { warmup: count };
}

/**
 * After the last round, how long each broker's CPU is still counted: work deferred past a disconnect
 * (Cashew's presence grace, PRESENCE_GRACE_MS, is 5 s) lands in it.
 */
export const TAIL_MS = 6000;

/** Number of generator processes: at least 2, one per generator core beyond that. */
export function generatorCount(context: BenchContext): number {
  return Math.max(2, generatorCores(context));
}

export function generatorCores(context: BenchContext): number {
  const list = context.generatorCpus;
  if (list === undefined) return 1;
  let cores = 0;
  for (const part of list.split(',')) {
    const [from, to] = part.split('-').map(Number);
    cores += to === undefined ? 1 : to - (from ?? 0) + 1;
  }
  return Math.max(1, cores);
}

function median(values: readonly number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
}

export async function runDrivenStorm(
  context: BenchContext,
  storm: DrivenStorm,
): Promise<Map<string, DrivenTotals>> {
  const count = generatorCount(context);
  const perWorker = Math.ceil(storm.clients.length / count);
  const warmupPerWorker = Math.ceil((storm.warmupClients?.length ?? 0) / count);
  const workers = Array.from({ length: count }, (_, index) => {
    const params: ConnectStormParams = {
      targets: storm.targets.map(({ name, endpoint, resume }) => ({
        name,
        endpoint,
        ...(resume !== undefined && { resume }),
      })),
      clients: storm.clients.slice(index * perWorker, (index + 1) * perWorker),
      concurrency: Math.max(1, Math.round(storm.concurrency / count)),
      chunk: storm.chunk,
      warmup: Math.ceil(storm.warmup / count),
      ...(storm.warmupClients !== undefined && {
        warmupClients: storm.warmupClients.slice(index * warmupPerWorker, (index + 1) * warmupPerWorker),
      }),
      localAddresses: storm.localAddresses,
      driven: true,
    };
    return new LoadWorker('connect-storm', params, context.generatorCpus);
  });
  const wall = new Map<string, number>();
  const brokerCpu = new Map<string, number>();
  const roundCpu = new Map<string, number>();
  const generatorCpu = new Map<string, number>();
  try {
    await Promise.all(workers.map((worker) => worker.next('ready')));
    await sleep(300);
    const cpuAtStart = new Map(storm.targets.map((target) => [target.name, target.broker.cpu()]));
    const perRound = Math.ceil(storm.chunk / count);
    for (let from = 0; from < perWorker; from += perRound) {
      for (const target of storm.targets) {
        const cpuBefore = target.broker.cpu();
        const began = performance.now();
        for (const worker of workers)
          worker.send({ type: 'round', target: target.name, from, to: Math.min(perWorker, from + perRound) });
        const done = await Promise.all(workers.map((worker) => worker.next<RoundDoneMessage>('round-done')));
        // The broker's share of the disconnects of this round lands just after the last CONNACK.
        await sleep(20);
        wall.set(target.name, (wall.get(target.name) ?? 0) + performance.now() - began);
        roundCpu.set(target.name, (roundCpu.get(target.name) ?? 0) + target.broker.cpu() - cpuBefore);
        const spent = done.reduce((sum, message) => sum + message.cpuMicros, 0);
        generatorCpu.set(target.name, (generatorCpu.get(target.name) ?? 0) + spent);
      }
    }
    await sleep(TAIL_MS);
    for (const target of storm.targets) {
      const total = target.broker.cpu() - (cpuAtStart.get(target.name) ?? Number.NaN);
      brokerCpu.set(target.name, total);
      const outside = total - (roundCpu.get(target.name) ?? 0);
      context.log(
        `    ${target.name}: ${((100 * outside) / total).toFixed(1)} % of its CPU outside its own rounds`,
      );
    }
    for (const worker of workers) worker.send({ type: 'round' });
    const results = await Promise.all(
      workers.map((worker) => worker.result<Record<string, ConnectStormResult>>()),
    );
    const totals = new Map<string, DrivenTotals>();
    for (const target of storm.targets) {
      const parts = results.map((result) => result[target.name]).filter((part) => part !== undefined);
      const sum = (field: 'attempts' | 'accepted' | 'refused' | 'failed' | 'resumed'): number =>
        parts.reduce((total, part) => total + part[field], 0);
      totals.set(target.name, {
        attempts: sum('attempts'),
        accepted: sum('accepted'),
        refused: sum('refused'),
        failed: sum('failed'),
        resumed: sum('resumed'),
        // The 20 ms settle per round is the parent's, not the broker's: left out of the rate.
        wallMs: (wall.get(target.name) ?? 0) - 20 * Math.ceil(perWorker / perRound),
        brokerCpuMicros: brokerCpu.get(target.name) ?? Number.NaN,
        generatorCpuMicros: generatorCpu.get(target.name) ?? Number.NaN,
        p50Ms: median(parts.map((part) => part.p50Ms)),
        p99Ms: median(parts.map((part) => part.p99Ms)),
      });
    }
    return totals;
  } finally {
    for (const worker of workers) worker.kill();
  }
}
