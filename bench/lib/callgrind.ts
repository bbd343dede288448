// Running the bench's brokers under callgrind (bench/instructions.ts, bench/instructions-publish.ts):
// every broker starts with instrumentation off; the harness switches it on around the measured load and
// reads the counters of the dump. User-space instructions of every thread; the kernel's share is not in it.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBrokersUnder } from './launch.ts';

/** Valgrind starts a Node process ~40× slower. */
const VALGRIND_SLOWDOWN = 40;

/** `valgrind` and its arguments for a process counted from the first `instrumentationOn`, dumping to `outDir`. */
export function callgrindCommand(outDir: string): string[] {
  return [
    'valgrind',
    '--tool=callgrind',
    '--instr-atstart=no',
    // One dump per thread: the main thread's count leaves out V8's background compiler and
    // concurrent marking, whose share of a short window varies from run to run.
    '--separate-threads=yes',
    `--callgrind-out-file=${outDir}/callgrind.%p`,
    '--log-file=/dev/null',
  ];
}

/** Every broker started from now on runs under callgrind, writing its dumps to `outDir`. */
export function brokersUnderCallgrind(outDir: string): void {
  execFileSync('mkdir', ['-p', outDir]);
  runBrokersUnder(callgrindCommand(outDir), VALGRIND_SLOWDOWN);
}

export function instrumentationOn(pid: number): void {
  execFileSync('callgrind_control', ['--instr=on', String(pid)], { stdio: 'ignore' });
}

export interface Counted {
  /** Every thread's. */
  readonly total: number;
  /** The main thread's: the JavaScript, scavenges, libuv, and what it runs of the GC's work. */
  readonly main: number;
}

/** The instructions callgrind counted in `pid` since instrumentation was switched on. */
export function dumpedInstructions(outDir: string, pid: number): Counted {
  execFileSync('callgrind_control', ['--dump', String(pid)], { stdio: 'ignore' });
  const dumps = readdirSync(outDir).filter((file) => file.startsWith(`callgrind.${pid}`));
  let total = 0;
  let main = 0;
  for (const file of dumps) {
    const totals = /^(?:totals|summary): (\d+)/m.exec(readFileSync(join(outDir, file), 'utf8'));
    const count = Number(totals?.[1] ?? 0);
    total += count;
    if (/-0*1$/.test(file)) main += count;
  }
  return { total, main };
}
