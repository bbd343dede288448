// Cashew as the benchmark runs it: the compiled dist/ (bench/lib/built-cashew.ts) and the same
// startBroker as `cashew broker`, settings from the parent,
// logs (audit lines included) to stdout, and an IPC hook to force a GC before a memory reading.
import { createLogger, resolveOptions, startBroker, type Settings } from '../../dist/broker/index.js';
import { serveBenchControl } from './control.ts';

const settings = JSON.parse(process.env.CASHEW_BENCH_SETTINGS ?? '{}') as Settings;
const options = resolveOptions(settings);
const broker = await startBroker(options, { logger: createLogger(options.logLevel) });
serveBenchControl(broker.ports, () => broker.close());
