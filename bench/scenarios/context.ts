// What every scenario gets: sizes for the chosen mode, pinning, keys and TLS files, the systems to
// compare, and helpers that run a load worker while snapshotting broker CPU at the worker's marks.
import type { BenchKeys } from '../lib/tokens.ts';
import type { Endpoint } from '../lib/mqtt-wire.ts';
import type { ResultRow } from '../lib/report.ts';
import { HOST, type BrokerProcess, type SystemName, type TlsFiles } from '../lib/systems.ts';
import { LoadWorker, type WorkerMessage } from '../lib/workers.ts';

export interface BenchContext {
  readonly quick: boolean;
  readonly repetitions: number;
  /** CPU list for brokers (taskset), e.g. "1". */
  readonly brokerCpus: string | undefined;
  /** CPU list for load generators, e.g. "0". */
  readonly generatorCpus: string | undefined;
  readonly tls: TlsFiles;
  readonly keys: BenchKeys;
  readonly systems: readonly SystemName[];
  readonly rows: ResultRow[];
  /** Only cases whose name contains this (`--case`), for focused runs while profiling. */
  readonly caseFilter: string | undefined;
  log(message: string): void;
}

export function caseSelected(context: BenchContext, name: string): boolean {
  return context.caseFilter === undefined || name.includes(context.caseFilter);
}

export interface Measured<R> {
  readonly result: R;
  /** Broker CPU µs at each mark the worker sent. */
  readonly cpuAt: Record<string, number>;
}

/** Runs one load worker against a broker and returns its result with broker CPU at its marks. */
export async function runLoad<R>(
  context: BenchContext,
  broker: BrokerProcess,
  module: string,
  params: unknown,
): Promise<Measured<R>> {
  const worker = new LoadWorker(module, params, context.generatorCpus);
  const cpuAt: Record<string, number> = {};
  worker.onMessage = (message: WorkerMessage) => {
    if (message.type === 'mark') cpuAt[String(message.label)] = broker.cpu();
  };
  const result = await worker.result<R>();
  return { result, cpuAt };
}

export interface MeasuredAll<R> {
  readonly result: R;
  /** CPU µs of every broker at each mark: label → broker name → µs. */
  readonly cpuAt: Record<string, Record<string, number>>;
}

/** Runs one load worker that drives several brokers; at each mark every broker's CPU is read. */
export async function runLoadOnAll<R>(
  context: BenchContext,
  brokers: ReadonlyMap<string, BrokerProcess>,
  module: string,
  params: unknown,
): Promise<MeasuredAll<R>> {
  const worker = new LoadWorker(module, params, context.generatorCpus);
  const cpuAt: Record<string, Record<string, number>> = {};
  worker.onMessage = (message: WorkerMessage) => {
    if (message.type !== 'mark') return;
    const reading: Record<string, number> = {};
    for (const [name, broker] of brokers) reading[name] = broker.cpu();
    cpuAt[String(message.label)] = reading;
  };
  const result = await worker.result<R>();
  return { result, cpuAt };
}

/** One broker's CPU µs between two marks of runLoadOnAll. */
export function cpuOfBetween(measured: MeasuredAll<unknown>, name: string, from: string, to: string): number {
  return (measured.cpuAt[to]?.[name] ?? Number.NaN) - (measured.cpuAt[from]?.[name] ?? Number.NaN);
}

/** Broker CPU µs between two marks. */
export function cpuBetween(measured: Measured<unknown>, from: string, to: string): number {
  return (measured.cpuAt[to] ?? Number.NaN) - (measured.cpuAt[from] ?? Number.NaN);
}

/** Repetition order: systems rotate so that none is always first (interleaving). */
export function rotation<T>(items: readonly T[], repetition: number): T[] {
  const shift = repetition % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

/** Loopback source addresses, to multiply the ephemeral port range (and dodge TIME_WAIT). */
export function loopbackAddresses(count: number, offset = 0): string[] {
  return Array.from({ length: count }, (_, index) => `127.0.${1 + ((offset + index) % 200)}.${1 + index}`);
}

export function pushRuns(
  runs: Partial<Record<SystemName, number[]>>,
  system: SystemName,
  value: number,
): void {
  (runs[system] ??= []).push(value);
}

/** How a generator reaches a broker: MQTT over TCP, over TLS, or over secure WebSocket (/mqtt). */
export type Transport = 'TCP' | 'TLS' | 'WSS';

export function endpointOf(broker: BrokerProcess, transport: Transport): Endpoint {
  switch (transport) {
    case 'TCP':
      return { host: HOST, port: broker.port };
    case 'TLS':
      return { host: HOST, port: broker.tlsPort, tls: true };
    case 'WSS':
      return { host: HOST, port: broker.wssPort, tls: true, webSocket: true };
  }
}
