// Load generators run as separate Node processes (forked with tsx), pinned away from the broker's core.
// A worker receives its parameters, may send `mark` messages (the parent snapshots broker CPU at each),
// may wait for commands from the parent, and ends with one `result`.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pinProcess } from './proc.ts';

export interface WorkerMessage {
  readonly type: string;
  readonly [field: string]: unknown;
}

const LOAD_DIR = fileURLToPath(new URL('../load/', import.meta.url));

export class LoadWorker {
  readonly child: ChildProcess;
  readonly #waiters: { type: string; resolve: (message: WorkerMessage) => void }[] = [];
  readonly #inbox: WorkerMessage[] = [];
  readonly #exited: Promise<number>;
  onMessage: ((message: WorkerMessage) => void) | undefined;

  constructor(module: string, params: unknown, cpus: string | undefined) {
    this.child = fork(`${LOAD_DIR}${module}.ts`, [], {
      execArgv: ['--import', 'tsx', '--max-old-space-size=4096'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    if (cpus !== undefined && this.child.pid !== undefined) pinProcess(this.child.pid, cpus);
    this.#exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code ?? 1)));
    this.child.on('message', (raw) => {
      const message = raw as WorkerMessage;
      this.onMessage?.(message);
      const index = this.#waiters.findIndex((waiter) => waiter.type === message.type);
      const waiter = index === -1 ? undefined : this.#waiters.splice(index, 1)[0];
      if (waiter !== undefined) waiter.resolve(message);
      else this.#inbox.push(message);
    });
    this.child.send({ type: 'params', params });
  }

  send(message: WorkerMessage): void {
    this.child.send(message);
  }

  /** The next message of a type (or one already received), failing if the worker exits first. */
  next<T extends WorkerMessage = WorkerMessage>(type: string, timeoutMs = 600_000): Promise<T> {
    const index = this.#inbox.findIndex((message) => message.type === type);
    if (index !== -1) return Promise.resolve(this.#inbox.splice(index, 1)[0] as T);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker: no ${type} in ${timeoutMs} ms`)), timeoutMs);
      void this.#exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`worker exited (${code}) before ${type}`));
      });
      this.#waiters.push({
        type,
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message as T);
        },
      });
    });
  }

  async result<T>(timeoutMs?: number): Promise<T> {
    const message = await this.next('result', timeoutMs);
    await this.#exited;
    return message.result as T;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

/** Worker side: read the parameters, run, send the result, exit. */
export function runWorker<P, R>(run: (params: P, channel: WorkerChannel) => Promise<R>): void {
  const channel = new WorkerChannel();
  process.once('message', (message: { type: string; params: P }) => {
    run(message.params, channel)
      .then((result) => {
        process.send?.({ type: 'result', result }, () => process.exit(0));
      })
      .catch((error: unknown) => {
        process.stderr.write(`load worker failed: ${String(error instanceof Error ? error.stack : error)}\n`);
        process.exit(1);
      });
  });
}

export class WorkerChannel {
  readonly #inbox: WorkerMessage[] = [];
  readonly #waiters: { type: string; resolve: (message: WorkerMessage) => void }[] = [];

  constructor() {
    process.on('message', (message: WorkerMessage) => {
      if (message.type === 'params') return;
      const index = this.#waiters.findIndex((waiter) => waiter.type === message.type);
      const waiter = index === -1 ? undefined : this.#waiters.splice(index, 1)[0];
      if (waiter !== undefined) waiter.resolve(message);
      else this.#inbox.push(message);
    });
  }

  send(message: WorkerMessage): void {
    process.send?.(message);
  }

  /** Tells the parent a phase boundary: it snapshots broker CPU under this label. */
  mark(label: string): void {
    this.send({ type: 'mark', label });
  }

  next<T extends WorkerMessage = WorkerMessage>(type: string): Promise<T> {
    const index = this.#inbox.findIndex((message) => message.type === type);
    if (index !== -1) return Promise.resolve(this.#inbox.splice(index, 1)[0] as T);
    return new Promise((resolve) => this.#waiters.push({ type, resolve: (m) => resolve(m as T) }));
  }
}

/** Runs async tasks with at most `limit` in flight. */
export async function withConcurrency<T>(
  count: number,
  limit: number,
  task: (index: number) => Promise<T>,
): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  async function lane(): Promise<void> {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, count) }, lane));
  return results;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Monotonic clock in µs, comparable between processes on one machine (CLOCK_MONOTONIC). */
export function nowMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}
