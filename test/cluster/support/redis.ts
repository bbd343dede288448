// A private redis-server for one test file: a free loopback port, no persistence, a temp dir;
// stopped (and restartable on the same port) by the test.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localRedisArgs } from '../../../broker/cluster/local-redis.ts';
import { supervise, type Supervised } from '../../../cli/supervisor.ts';

export const REDIS_SERVER = '/usr/bin/redis-server';
const START_TIMEOUT_MS = 10_000;

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether a loopback port can be bound right now. */
async function bindable(port: number): Promise<boolean> {
  const server = createServer();
  const bound = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (bound) await new Promise<void>((resolve) => server.close(() => resolve()));
  return bound;
}

/**
 * A free port for a server that is started by another process (redis-server, `cashew cluster`),
 * chosen below the kernel's ephemeral range (32768+ here), so that the many outgoing connections of
 * tests running at the same time cannot take it between this check and the bind.
 */
export async function serverPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await bindable(port)) return port;
  }
}

const START_ATTEMPTS = 3;

export interface TestRedis {
  readonly port: number;
  readonly url: string;
  /** Stops redis-server (SIGKILL when `hard`); its data is gone (no persistence). */
  stop(hard?: boolean): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** SIGSTOP: redis-server keeps its connections and answers nothing (a stalled Redis). */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Stops it and removes its directory (afterAll). */
  dispose(): Promise<void>;
}

export async function startTestRedis(attempt = 1): Promise<TestRedis> {
  const port = await serverPort();
  const dir = mkdtempSync(join(tmpdir(), 'cashew-redis-'));
  let server: Supervised | undefined;

  async function start(): Promise<void> {
    server = supervise({ name: 'redis-server', command: REDIS_SERVER, args: localRedisArgs(port, dir) });
    try {
      await server.waitForText('Ready to accept connections', START_TIMEOUT_MS);
    } catch (error) {
      await server.stop({ signal: 'SIGKILL' });
      throw error;
    }
  }

  async function stop(hard = false): Promise<void> {
    const stopping = server;
    server = undefined;
    await stopping?.stop({ signal: hard ? 'SIGKILL' : 'SIGTERM', timeoutMs: 5000 });
  }

  let paused = false;
  function signal(name: 'SIGSTOP' | 'SIGCONT'): void {
    if (server === undefined) throw new Error('redis-server is not running');
    process.kill(server.pid, name);
  }

  try {
    await start();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    if (attempt >= START_ATTEMPTS) throw error;
    return startTestRedis(attempt + 1); // the port was taken after all: another one
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    stop,
    pause: () => {
      signal('SIGSTOP');
      paused = true;
    },
    resume: () => {
      signal('SIGCONT');
      paused = false;
    },
    async dispose() {
      if (paused && server !== undefined) signal('SIGCONT'); // a paused server would not stop
      await stop(true);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
