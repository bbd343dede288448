// A private redis-server for one test file: a free loopback port, no persistence, a temp dir;
// stopped (and restartable on the same port) by the test.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localRedisArgs } from '../../../broker/cluster/local-redis.ts';

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
  /** Stops it and removes its directory (afterAll). */
  dispose(): Promise<void>;
}

export async function startTestRedis(attempt = 1): Promise<TestRedis> {
  const port = await serverPort();
  const dir = mkdtempSync(join(tmpdir(), 'cashew-redis-'));
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    const process = spawn(REDIS_SERVER, localRedisArgs(port, dir), { stdio: ['ignore', 'pipe', 'pipe'] });
    child = process;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => {
        process.kill('SIGKILL');
        reject(new Error(`redis-server did not start: ${output}`));
      }, START_TIMEOUT_MS);
      process.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      process.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}: ${output}`));
      });
    });
  }

  async function stop(hard = false): Promise<void> {
    const process = child;
    child = undefined;
    if (process === undefined || process.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => process.once('exit', () => resolve()));
    process.kill(hard ? 'SIGKILL' : 'SIGTERM');
    const timer = setTimeout(() => process.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
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
    async dispose() {
      await stop(true);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
