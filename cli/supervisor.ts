// Child processes, supervised in one place (`cashew demo`, `cashew cluster`, the tests, the
// benchmarks): spawn, record the output (JSON log lines parsed), wait for a ready line with a
// timeout (rejecting with the output when the process exits first), stop with SIGTERM then SIGKILL
// after a timeout, and kill whatever still runs when this process exits.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { basename } from 'node:path';
import { CashewError } from '../protocol/index.ts';
import { LogLines, type LogLine, type Stream } from './process-output.ts';

/** The exit code, the signal that ended the process, or `spawn failed` (e.g. the command does not exist). */
export type ExitStatus = number | NodeJS.Signals | 'spawn failed';

/** How long a wait for a ready line lasts unless told otherwise. */
export const DEFAULT_READY_TIMEOUT_MS = 20_000;
/** How long a process has to exit after SIGTERM before it is sent SIGKILL. */
export const DEFAULT_STOP_TIMEOUT_MS = 10_000;

export interface SuperviseOptions {
  readonly command: string;
  readonly args?: readonly string[];
  /** For messages; the command's base name when absent. */
  readonly name?: string;
  /** Default: this process's environment. */
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** stdout and stderr: read and recorded (`pipe`, default), shared with this process, or a file descriptor. */
  readonly output?: 'pipe' | 'inherit' | 'ignore' | number;
  /** An IPC channel (a Node child: `child.send`, `message` events). */
  readonly ipc?: boolean;
  /** Each output line as it arrives (with `output: 'pipe'`), e.g. to forward it. */
  readonly onLine?: (line: string, stream: Stream) => void;
  /** Text kept per stream (default 8 MiB; a long-running child forwarding its lines keeps less). */
  readonly keptChars?: number;
  /** Killed with SIGKILL this long after the start, whatever happens (a command run to its end). */
  readonly killAfterMs?: number;
}

export interface StopOptions {
  readonly signal?: NodeJS.Signals;
  /** Asks the process to stop its own way (an IPC message) instead of sending `signal`. */
  readonly request?: () => void;
  /** SIGKILL after this long without an exit. */
  readonly timeoutMs?: number;
}

const running = new Set<Supervised>();
let exitHookInstalled = false;

function killAllOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const supervised of running) supervised.child.kill('SIGKILL');
  });
}

export class Supervised {
  readonly name: string;
  readonly child: ChildProcess;
  /** The output, line by line (with `output: 'pipe'`). */
  readonly output: LogLines;
  /** Resolves once the process has exited and its output has been read. */
  readonly exited: Promise<ExitStatus>;
  #status: ExitStatus | undefined;

  constructor(options: SuperviseOptions) {
    this.name = options.name ?? basename(options.command);
    const out = options.output ?? 'pipe';
    const stdio: StdioOptions = ['ignore', out, out, ...(options.ipc === true ? ['ipc' as const] : [])];
    this.child = spawn(options.command, options.args ?? [], {
      stdio,
      env: options.env ?? process.env,
      ...(options.cwd !== undefined && { cwd: options.cwd }),
    });
    this.output = new LogLines({
      ...(options.keptChars !== undefined && { keptChars: options.keptChars }),
      ...(options.onLine !== undefined && { onLine: options.onLine }),
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      const readable = this.child[stream];
      readable?.setEncoding('utf8');
      readable?.on('data', (chunk: string) => this.output.feed(chunk, stream));
      readable?.on('end', () => this.output.end(stream));
    }
    this.exited = new Promise<ExitStatus>((resolve) => {
      const settle = (status: ExitStatus): void => {
        if (this.#status !== undefined) return;
        this.#status = status;
        running.delete(this);
        this.output.failAll(`${this.name} exited (${String(status)})${this.#context()}`);
        resolve(status);
      };
      this.child.once('close', (code, signal) => settle(code ?? signal ?? 'spawn failed'));
      this.child.on('error', (error) => {
        if (this.child.pid !== undefined) return; // a failed kill() or send(): the process still runs
        this.output.feed(`${error.message}\n`, 'stderr');
        settle('spawn failed');
      });
    });
    if (options.killAfterMs !== undefined) {
      const killer = setTimeout(() => this.child.kill('SIGKILL'), options.killAfterMs);
      void this.exited.then(() => clearTimeout(killer));
    }
    running.add(this);
    killAllOnExit();
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Whether the process has not exited yet. */
  get running(): boolean {
    return this.#status === undefined;
  }

  /** The exit status, once exited. */
  get status(): ExitStatus | undefined {
    return this.#status;
  }

  /** Every stdout line that parsed as a JSON object. */
  get lines(): LogLine[] {
    return this.output.lines;
  }

  stdout(): string {
    return this.output.text('stdout');
  }

  stderr(): string {
    return this.output.text('stderr');
  }

  /** The first JSON line (past or future) that matches; rejects on timeout or exit, with the output. */
  waitForLine(match: (line: LogLine) => boolean, timeoutMs = DEFAULT_READY_TIMEOUT_MS): Promise<LogLine> {
    return this.#ready(this.output.waitFor(match, timeoutMs, () => this.#context()));
  }

  /** The first output line of either stream (past or future) that contains `text` or matches it. */
  waitForText(text: string | RegExp, timeoutMs = DEFAULT_READY_TIMEOUT_MS): Promise<string> {
    return this.#ready(this.output.waitForText(text, timeoutMs, () => this.#context()));
  }

  /**
   * Waits for something other than output (an IPC message): `subscribe` calls `deliver` with the
   * value and returns how to unsubscribe. Rejects on timeout or exit, like the line waits.
   */
  waitFor<T>(
    what: string,
    subscribe: (deliver: (value: T) => void) => () => void,
    timeoutMs = DEFAULT_READY_TIMEOUT_MS,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = (error: Error | undefined, value?: T): void => {
        clearTimeout(timer);
        unsubscribe();
        if (error === undefined) resolve(value as T);
        else reject(error);
      };
      const timer = setTimeout(
        () =>
          done(
            new CashewError(
              'ERR_TIMEOUT',
              `${this.name}: no ${what} within ${timeoutMs} ms${this.#context()}`,
            ),
          ),
        timeoutMs,
      );
      const unsubscribe = subscribe((value) => done(undefined, value));
      void this.exited.then((status) => done(this.#exitedBefore(what, status)));
    });
  }

  /** Sends `signal` (SIGTERM) or makes the `request`, and waits for the exit; SIGKILL after `timeoutMs`. */
  async stop(options: StopOptions = {}): Promise<ExitStatus> {
    const { signal = 'SIGTERM', timeoutMs = DEFAULT_STOP_TIMEOUT_MS, request } = options;
    if (!this.running) return this.exited;
    if (request === undefined) this.child.kill(signal);
    else request();
    const killer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const status = await this.exited;
    clearTimeout(killer);
    return status;
  }

  /** A wait on the output, its rejection turned into a coded error that names this process. */
  async #ready<T>(wait: Promise<T>): Promise<T> {
    try {
      return await wait;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (this.#status !== undefined) throw new CashewError('ERR_START_FAILED', message, { cause: error });
      throw new CashewError('ERR_TIMEOUT', `${this.name}: ${message}`, { cause: error });
    }
  }

  #exitedBefore(what: string, status: ExitStatus): CashewError {
    return new CashewError(
      'ERR_START_FAILED',
      `${this.name} exited (${String(status)}) before ${what}${this.#context()}`,
    );
  }

  #context(): string {
    const tail = this.output.tail();
    return tail === '' ? '' : `; its last output:\n${tail}`;
  }
}

/** Starts a supervised child process. */
export function supervise(options: SuperviseOptions): Supervised {
  return new Supervised(options);
}

/** Runs a command to its end (SIGKILL after `killAfterMs`): its status and output. */
export async function runToEnd(
  options: SuperviseOptions,
): Promise<{ status: ExitStatus; stdout: string; stderr: string }> {
  const supervised = supervise(options);
  const status = await supervised.exited;
  return { status, stdout: supervised.stdout(), stderr: supervised.stderr() };
}

/** Stops the given processes (default: every supervised process still running) at the same time. */
export function stopAll(
  processes: Iterable<Supervised> = running,
  options: StopOptions = {},
): Promise<ExitStatus[]> {
  return Promise.all([...processes].map((supervised) => supervised.stop(options)));
}
