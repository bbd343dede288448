// Child processes for multi-process tests: the broker and handlers started as `node bin/cashew.js …`
// under cli/supervisor.ts, their JSON log lines parsed and awaited. `stopAll()` stops every one.
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import {
  stopAll as stopSupervised,
  supervise,
  type ExitStatus,
  type Supervised,
} from '../../cli/supervisor.ts';
import type { LogLine } from '../../cli/process-output.ts';
import { TEST_CERTS_DIR, TEST_SECRET } from './broker.ts';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
export const CASHEW_BIN = join(REPO_ROOT, 'bin', 'cashew.js');

export type { LogLine };

const DEFAULT_WAIT_MS = 15_000;
/** The processes started here and still running, for `stopAll()`. */
const started = new Set<Supervised>();

export interface ChildHandle {
  readonly child: ChildProcess;
  readonly name: string;
  /** Every JSON line written to stdout, parsed. */
  readonly lines: LogLine[];
  /** All output (stdout, then stderr) as lines, for failure messages and assertions. */
  readonly text: string[];
  /** Resolves with the first line that matches (past or future), rejects after `timeoutMs` or on exit. */
  waitForLine(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<ExitStatus>;
  /** Sends `signal` and waits for the exit, SIGKILL after `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ExitStatus>;
}

export function startProcess(name: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildHandle {
  const supervised = supervise({
    name,
    command: process.execPath,
    args: [CASHEW_BIN, ...args],
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
  });
  started.add(supervised);
  void supervised.exited.then(() => started.delete(supervised));
  return {
    child: supervised.child,
    name,
    lines: supervised.lines,
    get text() {
      return `${supervised.stdout()}${supervised.stderr()}`.split('\n');
    },
    waitForLine: (match, timeoutMs = DEFAULT_WAIT_MS) => supervised.waitForLine(match, timeoutMs),
    exited: supervised.exited,
    stop: (signal = 'SIGTERM', timeoutMs = DEFAULT_WAIT_MS) => supervised.stop({ signal, timeoutMs }),
  };
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

/** Stops every process started here that still runs (afterAll / afterEach). */
export async function stopAll(): Promise<void> {
  await stopSupervised(started, { signal: 'SIGKILL', timeoutMs: 5_000 });
}
