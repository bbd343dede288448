// Running the bench's brokers under callgrind (bench/instructions.ts, bench/instructions-publish.ts):
// every broker starts with instrumentation off; the harness switches it on around the measured load and
// reads the counters of the dump. User-space instructions of every thread; the kernel's share is not in it.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBrokersUnder } from './launch.ts';

/** Valgrind starts a Node process ~40× slower. */
const VALGRIND_SLOWDOWN = 40;

/**
 * `valgrind` and its arguments for a process counted from the first `instrumentationOn`, dumping to
 * `outDir`. `simulate`: callgrind also simulates the caches (first level and last level, sized as this
 * machine's CPU reports them) and the branch predictors, and counts their misses: what this VM's perf
 * cannot count (no hardware counters), deterministically.
 */
export function callgrindCommand(outDir: string, simulate = false): string[] {
  return [
    'valgrind',
    '--tool=callgrind',
    '--instr-atstart=no',
    ...(simulate ? ['--cache-sim=yes', '--branch-sim=yes'] : []),
    // One dump per thread: the main thread's count leaves out V8's background compiler and
    // concurrent marking, whose share of a short window varies from run to run.
    '--separate-threads=yes',
    `--callgrind-out-file=${outDir}/callgrind.%p`,
    '--log-file=/dev/null',
  ];
}

/** Every broker started from now on runs under callgrind, writing its dumps to `outDir`. */
export function brokersUnderCallgrind(outDir: string, simulate = false): void {
  execFileSync('mkdir', ['-p', outDir]);
  runBrokersUnder(callgrindCommand(outDir, simulate), simulate ? 2 * VALGRIND_SLOWDOWN : VALGRIND_SLOWDOWN);
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

/**
 * Every event callgrind counted in `pid` since instrumentation was switched on, by its name in the
 * dump (`Ir`: instructions; with `simulate`, also `I1mr`, `D1mr`, `D1mw`, `ILmr`, `DLmr`, `DLmw`: cache
 * misses, and `Bcm`, `Bim`: mispredicted conditional and indirect branches).
 */
export function dumpedEvents(outDir: string, pid: number): Map<string, Counted> {
  execFileSync('callgrind_control', ['--dump', String(pid)], { stdio: 'ignore' });
  const dumps = readdirSync(outDir).filter((file) => file.startsWith(`callgrind.${pid}`));
  const events = new Map<string, Counted>();
  for (const file of dumps) {
    const text = readFileSync(join(outDir, file), 'utf8');
    const names = /^events: (.+)$/m.exec(text)?.[1]?.trim().split(/\s+/) ?? ['Ir'];
    const counts = /^(?:totals|summary): (.+)$/m.exec(text)?.[1]?.trim().split(/\s+/).map(Number) ?? [];
    const isMain = /-0*1$/.test(file);
    names.forEach((name, index) => {
      const count = counts[index] ?? 0;
      const sum = events.get(name) ?? { total: 0, main: 0 };
      events.set(name, { total: sum.total + count, main: sum.main + (isMain ? count : 0) });
    });
  }
  return events;
}

/** The instructions callgrind counted in `pid` since instrumentation was switched on. */
export function dumpedInstructions(outDir: string, pid: number): Counted {
  return dumpedEvents(outDir, pid).get('Ir') ?? { total: 0, main: 0 };
}
