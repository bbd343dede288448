// Cashew as the benchmark runs it: the compiled dist/ (bench/lib/built-cashew.ts) and the same
// startBroker as `cashew broker`, settings from the parent, logs (audit lines included) to stdout, and
// an IPC hook to force a GC before a memory reading. CASHEW_BENCH_ROOT: another checkout's dist/ to run
// with this harness (bench/compare.ts and bench/instructions.ts, `--before`).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Cashew from '../../dist/broker/index.js';
import { serveBenchControl } from './control.ts';

const root = process.env.CASHEW_BENCH_ROOT;
const entry =
  root === undefined
    ? new URL('../../dist/broker/index.js', import.meta.url).href
    : pathToFileURL(join(root, 'dist', 'broker', 'index.js')).href;
const { createLogger, resolveOptions, startBroker } = (await import(entry)) as typeof Cashew;
const settings = JSON.parse(process.env.CASHEW_BENCH_SETTINGS ?? '{}') as Cashew.Settings;
const options = resolveOptions(settings);
const broker = await startBroker(options, { logger: createLogger(options.logLevel) });
serveBenchControl(broker.ports, () => broker.close());
