// `cashew cluster` (`npm run cluster`): N local broker processes on one Redis, for trying scale-out.
// Starts a private redis-server (no persistence, temp dir) unless --redis-url is given. Node i
// listens on MQTTS_PORT + 2i and WSS_PORT + 2i (8883/8884, 8885/8886, …). Ctrl-C stops them all.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CASHEW_BIN } from '../broker/dev/package-files.ts';
import { createLogger, type Logger } from '../broker/log/logger.ts';
import { resolveOptions } from '../broker/options.ts';
import { localRedisArgs, REDIS_SERVER_COMMAND } from '../broker/cluster/local-redis.ts';
import { CashewError } from '../protocol/index.ts';
import { SETTING_FLAGS, settingsFrom } from './settings.ts';

export const USAGE = `usage: cashew cluster [--nodes 3] [--local-redis-port 6380] [setting flags]
Starts N broker processes on one Redis (REDIS_URL, or a private redis-server on --local-redis-port
with no persistence). Node i listens on MQTTS_PORT + 2i and WSS_PORT + 2i. Ctrl-C stops them all.
For trying scale-out on one machine: docs/scaling.md.`;

export const DEFAULT_CLUSTER_NODES = 3;
const DEFAULT_LOCAL_REDIS_PORT = 6380;
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

interface Running {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  onLine: (line: string) => void,
): Running {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    let pending = '';
    stream?.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line !== '') onLine(line);
    });
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, exited };
}

/** Resolves when a line matches; rejects when the process exits first or after the timeout. */
function waitForLine(running: Running, match: (line: string) => boolean, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new CashewError('ERR_TIMEOUT', `${what}: not ready in time`)),
      START_TIMEOUT_MS,
    );
    const onData = (chunk: Buffer): void => {
      const line = chunk
        .toString('utf8')
        .split('\n')
        .find((text) => match(text));
      if (line === undefined) return;
      clearTimeout(timer);
      running.child.stdout?.off('data', onData);
      resolve(line);
    };
    running.child.stdout?.on('data', onData);
    void running.exited.then(() => {
      clearTimeout(timer);
      reject(new CashewError('ERR_CONFIG_INVALID', `${what} exited at start`));
    });
  });
}

async function stop(running: Running): Promise<void> {
  if (running.child.exitCode !== null || running.child.signalCode !== null) return;
  running.child.kill('SIGTERM');
  const timer = setTimeout(() => running.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await running.exited;
  clearTimeout(timer);
}

async function startLocalRedis(
  port: number,
  logger: Logger,
): Promise<{ url: string; running: Running; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'cashew-cluster-redis-'));
  const args = localRedisArgs(port, dir);
  const output: string[] = [];
  const running = run(REDIS_SERVER_COMMAND, args, process.env, (line) => output.push(line));
  running.child.once('error', (error) => output.push(error.message)); // e.g. redis-server not installed
  await waitForLine(running, (line) => line.includes('Ready to accept connections'), 'redis-server').catch(
    (error: unknown) => {
      rmSync(dir, { recursive: true, force: true });
      throw new CashewError(
        'ERR_CONFIG_INVALID',
        `local redis-server on port ${port}: ${output.slice(-3).join(' | ')}`,
        {
          cause: error,
        },
      );
    },
  );
  const url = `redis://127.0.0.1:${port}`;
  logger.info(
    { redis: url, pid: running.child.pid, persistence: 'none (data lost on stop)' },
    'started a local redis-server',
  );
  return { url, running, dir };
}

export async function clusterCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { ...SETTING_FLAGS, nodes: { type: 'string' }, 'local-redis-port': { type: 'string' } },
    strict: true,
  });
  const nodes = Number(values.nodes ?? DEFAULT_CLUSTER_NODES);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 16)
    throw new CashewError('ERR_CONFIG_INVALID', `--nodes=${String(values.nodes)} is invalid: expected 1-16`);
  const settings = settingsFrom(process.env, values);
  const options = resolveOptions(settings); // validates everything once, before any process starts
  const logger = createLogger(options.logLevel);
  const redisPort = Number(values['local-redis-port'] ?? DEFAULT_LOCAL_REDIS_PORT);
  if (!Number.isInteger(redisPort) || redisPort < 1 || redisPort > 65535)
    throw new CashewError('ERR_CONFIG_INVALID', `--local-redis-port is invalid: expected a port 1-65535`);
  const redis = options.redisUrl === undefined ? await startLocalRedis(redisPort, logger) : undefined;
  const redisUrl = options.redisUrl ?? redis?.url ?? '';
  const brokers: Running[] = [];
  let stopping = false;
  const cleanUp = async (): Promise<void> => {
    stopping = true;
    await Promise.all(brokers.map((broker) => stop(broker)));
    if (redis !== undefined) {
      await stop(redis.running);
      rmSync(redis.dir, { recursive: true, force: true });
    }
  };
  try {
    const started: Array<Record<string, unknown>> = [];
    for (let index = 0; index < nodes; index += 1) {
      const nodeId = `${options.nodeId ?? 'node'}-${index + 1}`;
      const portOf = (base: number): string => (base === 0 ? '0' : String(base + 2 * index));
      const env = {
        ...process.env,
        ...settings,
        REDIS_URL: redisUrl,
        NODE_ID: nodeId,
        MQTTS_PORT: portOf(options.mqttsPort),
        WSS_PORT: portOf(options.wssPort),
        ...(options.mqttPort !== undefined && { MQTT_PORT: portOf(options.mqttPort) }),
        ...(options.wsPort !== undefined && { WS_PORT: portOf(options.wsPort) }),
      };
      const broker = run(process.execPath, [CASHEW_BIN, 'broker'], env, (line) =>
        process.stdout.write(`${line}\n`),
      );
      brokers.push(broker);
      const listening = await waitForLine(
        broker,
        (line) => line.includes('"cashew broker listening"'),
        nodeId,
      );
      const { ports } = JSON.parse(listening) as { ports: unknown };
      started.push({ node: nodeId, pid: broker.child.pid, ports });
      void broker.exited.then(() => {
        if (!stopping) logger.warn({ node: nodeId }, 'broker process exited; the others keep serving');
      });
    }
    logger.info({ redis: redisUrl, nodes: started }, 'cashew cluster running; Ctrl-C stops every node');
  } catch (error) {
    await cleanUp();
    throw error;
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  logger.info({ signal }, 'stopping the cluster');
  await cleanUp();
  logger.info('cluster stopped');
  return 0;
}
