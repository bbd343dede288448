// `cashew cluster` (`npm run cluster`): N local broker processes on one Redis, for trying scale-out.
// Starts a private redis-server (no persistence, temp dir) unless --redis-url is given. Node i
// listens on MQTTS_PORT + 2i and WSS_PORT + 2i (8883/8884, 8885/8886, …). Ctrl-C stops them all.
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
import { stopAll, supervise, type Supervised } from './supervisor.ts';

export const USAGE = `usage: cashew cluster [--nodes 3] [--local-redis-port 6380] [setting flags]
Starts N broker processes on one Redis (REDIS_URL, or a private redis-server on --local-redis-port
with no persistence). Node i listens on MQTTS_PORT + 2i and WSS_PORT + 2i. Ctrl-C stops them all.
For trying scale-out on one machine: docs/scaling.md.`;

export const DEFAULT_CLUSTER_NODES = 3;
const DEFAULT_LOCAL_REDIS_PORT = 6380;
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

/** Output kept per process for error messages; the brokers' lines are forwarded as they come. */
const KEPT_OUTPUT_CHARS = 64 * 1024;

/** The reason a process gave for not starting: its last stderr line, without the command prefix. */
function startFailure(child: Supervised): string {
  const lines = child.stderr().trim().split('\n');
  return (lines.at(-1) ?? '').replace(/^cashew broker: /, '') || `exited (${String(child.status)})`;
}

async function startLocalRedis(
  port: number,
  logger: Logger,
): Promise<{ url: string; running: Supervised; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'cashew-cluster-redis-'));
  const running = supervise({
    command: REDIS_SERVER_COMMAND,
    args: localRedisArgs(port, dir),
    keptChars: KEPT_OUTPUT_CHARS,
  });
  try {
    await running.waitForText('Ready to accept connections', START_TIMEOUT_MS);
  } catch (error) {
    await running.stop({ signal: 'SIGKILL' });
    rmSync(dir, { recursive: true, force: true });
    const output = running.output.tail(3).replaceAll('\n', ' | ');
    throw new CashewError(
      'ERR_START_FAILED',
      `--local-redis-port ${port}: redis-server did not start: ${output}`,
      {
        cause: error,
      },
    );
  }
  const url = `redis://127.0.0.1:${port}`;
  logger.info(
    { redis: url, pid: running.pid, persistence: 'none (data lost on stop)' },
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
  // Listen for the stop signal before starting anything: a Ctrl-C during start stops what has started.
  let signalled: NodeJS.Signals | undefined;
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      signalled = signal;
      resolve(signal);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  const redis = options.redisUrl === undefined ? await startLocalRedis(redisPort, logger) : undefined;
  const redisUrl = options.redisUrl ?? redis?.url ?? '';
  const brokers: Supervised[] = [];
  let stopping = false;
  const cleanUp = async (): Promise<void> => {
    stopping = true;
    await stopAll(brokers, { timeoutMs: STOP_TIMEOUT_MS });
    if (redis !== undefined) {
      await redis.running.stop({ timeoutMs: STOP_TIMEOUT_MS });
      rmSync(redis.dir, { recursive: true, force: true });
    }
  };
  try {
    const started: Array<Record<string, unknown>> = [];
    for (let index = 0; index < nodes && signalled === undefined; index += 1) {
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
      const broker = supervise({
        name: nodeId,
        command: process.execPath,
        args: [CASHEW_BIN, 'broker'],
        env,
        keptChars: KEPT_OUTPUT_CHARS,
        onLine: (line) => process.stdout.write(`${line}\n`),
      });
      brokers.push(broker);
      const ready = broker
        .waitForLine((line) => line.msg === 'cashew broker listening', START_TIMEOUT_MS)
        .catch((error: unknown) => {
          if (broker.running || signalled !== undefined) throw error;
          throw new CashewError('ERR_START_FAILED', `${nodeId}: ${startFailure(broker)}`, { cause: error });
        });
      const listening = await Promise.race([ready, stopSignal.then(() => undefined)]);
      if (listening === undefined) break;
      const { ports } = listening;
      started.push({ node: nodeId, pid: broker.pid, ports });
      void broker.exited.then(() => {
        if (!stopping) logger.warn({ node: nodeId }, 'broker process exited; the others keep serving');
      });
    }
    if (signalled === undefined)
      logger.info({ redis: redisUrl, nodes: started }, 'cashew cluster running; Ctrl-C stops every node');
  } catch (error) {
    await cleanUp();
    throw error;
  }
  const signal = await stopSignal;
  logger.info({ signal }, 'stopping the cluster');
  await cleanUp();
  logger.info('cluster stopped');
  return 0;
}
