// Reading a process's CPU time and resident memory from /proc, so that costs hold on a shared machine:
// what a broker spent per operation does not depend on how many cores other processes were using.
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat (100 on every Linux we run on). */
const CLOCK_TICKS_PER_SEC = Number(readCommand('getconf', ['CLK_TCK']) ?? '100') || 100;

function readCommand(command: string, args: string[]): string | undefined {
  try {
    return execFileSync(command, args, { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

/** utime + stime of the whole process (all threads) from /proc/<pid>/stat, in µs (10 ms resolution). */
export function statCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1e6) / CLOCK_TICKS_PER_SEC;
}

/**
 * CPU time of the whole process in µs. Uses the scheduler's nanosecond run time of every thread
 * (/proc/<pid>/task/<tid>/schedstat) when available, as /proc/<pid>/stat only counts 10 ms ticks;
 * falls back to stat otherwise.
 */
export function cpuMicros(pid: number): number {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const schedstat = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8');
      ns += Number(schedstat.split(' ')[0]);
    }
    return ns / 1000;
  } catch {
    return statCpuMicros(pid);
  }
}

/** Resident set size in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match === null ? Number.NaN : Number(match[1]) * 1024;
}

/** Pins every thread of a process to the given CPUs (taskset -a -p); false when taskset is missing. */
export function pinProcess(pid: number, cpus: string): boolean {
  return readCommand('taskset', ['-a', '-p', '-c', cpus, String(pid)]) !== undefined;
}

/** Number of online CPUs. */
export function cpuCount(): number {
  return Number(readCommand('nproc', []) ?? '1') || 1;
}
