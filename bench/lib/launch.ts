// How the bench launches a broker process: extra Node flags, a command to run it under (valgrind), and
// the loopback port helpers.
import { createServer, connect, type AddressInfo } from 'node:net';
import { sleep } from './workers.ts';

/** Where every broker listens. */
export const HOST = '127.0.0.1';

/** Extra Node flags for the Node brokers (bench/profile.ts adds --cpu-prof). */
const extraNodeArgs: string[] = [];
export function addBrokerNodeArgs(...args: string[]): void {
  extraNodeArgs.push(...args);
}
export function brokerNodeArgs(): readonly string[] {
  return extraNodeArgs;
}

/** A command every broker runs under (bench/instructions.ts: valgrind), and how much slower it starts. */
let commandPrefix: readonly string[] = [];
let slowdown = 1;
export function runBrokersUnder(prefix: readonly string[], factor: number): void {
  commandPrefix = prefix;
  slowdown = factor;
}

export function underPrefix(command: string, args: readonly string[]): { command: string; args: string[] } {
  const [wrapper, ...wrapperArgs] = commandPrefix;
  return wrapper === undefined
    ? { command, args: [...args] }
    : { command: wrapper, args: [...wrapperArgs, command, ...args] };
}

/** How many times slower than usual brokers start and stop (under valgrind). */
export function startSlowdown(): number {
  return slowdown;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, HOST, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await sleep(50);
  }
}
