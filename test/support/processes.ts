// Child processes for multi-process tests: the broker and handlers started as `node bin/cashew.js …`,
// their JSON log lines parsed and awaited. Every process started here is stopped by `stopAll()`.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { TEST_CERTS_DIR, TEST_SECRET } from './broker.ts';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
export const CASHEW_BIN = join(REPO_ROOT, 'bin', 'cashew.js');

export type LogLine = Record<string, unknown>;

export interface ChildHandle {
  readonly child: ChildProcess;
  readonly name: string;
  /** Every JSON line written to stdout, parsed. */
  readonly lines: LogLine[];
  /** Non-JSON output (stdout and stderr), for failure messages. */
  readonly text: string[];
  /** Resolves with the first line that matches (past or future), rejects after `timeoutMs` or on exit. */
  waitForLine(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** Sends `signal` and waits for the exit, SIGKILL after `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | string>;
}

const running = new Set<ChildHandle>();

export function startProcess(name: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildHandle {
  const child = spawn(process.execPath, [CASHEW_BIN, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  const text: string[] = [];
  const waiters = new Set<(line: LogLine) => void>();
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  createInterface({ input: child.stdout }).on('line', (raw) => {
    let line: LogLine;
    try {
      line = JSON.parse(raw) as LogLine;
    } catch {
      text.push(raw);
      return;
    }
    lines.push(line);
    for (const waiter of waiters) waiter(line);
  });
  createInterface({ input: child.stderr }).on('line', (raw) => text.push(raw));

  function waitForLine(match: (line: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> {
    const seen = lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const done = (error?: Error, line?: LogLine) => {
        clearTimeout(timer);
        waiters.delete(waiter);
        if (line !== undefined) resolve(line);
        else reject(error ?? new Error('no line'));
      };
      const timer = setTimeout(
        () => done(new Error(`${name}: no matching log line in ${timeoutMs} ms\n${text.join('\n')}`)),
        timeoutMs,
      );
      const waiter = (line: LogLine) => {
        if (match(line)) done(undefined, line);
      };
      waiters.add(waiter);
      void exited.then((code) =>
        done(new Error(`${name} exited (${String(code)}) before the line\n${text.join('\n')}`)),
      );
    });
  }

  const handle: ChildHandle = {
    child,
    name,
    lines,
    text,
    waitForLine,
    exited,
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        const code = await exited;
        clearTimeout(timer);
        running.delete(handle);
        return code;
      }
      running.delete(handle);
      return exited;
    },
  };
  running.add(handle);
  void exited.then(() => running.delete(handle));
  return handle;
}

export interface HandlerProcessOptions {
  /** The broker's mqtts:// URL. */
  readonly url: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** Starts `node bin/cashew.js handler <module>` against a test broker and waits until it serves. */
export async function startHandlerProcess(
  module: string,
  options: HandlerProcessOptions,
): Promise<ChildHandle> {
  const handle = startProcess(`handler ${module}`, ['handler', join(REPO_ROOT, module)], {
    CASHEW_URL: options.url,
    CERTS_DIR: TEST_CERTS_DIR,
    JWT_SECRET: TEST_SECRET,
    ...options.env,
  });
  try {
    await handle.waitForLine((line) => line.msg === 'handler ready');
  } catch (error) {
    await handle.stop('SIGKILL');
    throw error;
  }
  return handle;
}

/** Stops every process still running (afterAll / afterEach). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((handle) => handle.stop('SIGKILL', 5_000)));
}

process.once('exit', () => {
  for (const handle of running) handle.child.kill('SIGKILL');
});
