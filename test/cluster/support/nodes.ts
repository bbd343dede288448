// Broker PROCESSES for the cluster tests: `node bin/cashew.js broker` on ephemeral loopback ports,
// sharing one Redis, supervised by cli/supervisor.ts (JSON log lines parsed and awaitable).
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Settings } from '../../../broker/index.ts';
import { ensureDevCertificates } from '../../../certs/dev-certs.ts';
import { TEST_CERTS_DIR, TEST_SECRET } from '../../support/broker.ts';
import { supervise, type ExitStatus } from '../../../cli/supervisor.ts';
import type { LogLine } from '../../../cli/process-output.ts';

const CASHEW = new URL('../../../bin/cashew.js', import.meta.url).pathname;
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

export type { LogLine };

export interface BrokerProcess {
  readonly nodeId: string;
  readonly pid: number;
  readonly ports: { mqtts: number; wss: number };
  readonly mqttsUrl: string;
  readonly wssUrl: string;
  /** The admin listener, when started with ADMIN_PORT (plain HTTP on loopback). */
  readonly adminUrl: string | undefined;
  readonly ca: Buffer;
  readonly logLines: LogLine[];
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /**
   * SIGTERM (graceful) or SIGKILL; resolves with the exit status when the process has exited (SIGKILL
   * after `timeoutMs`, default 10 s, if SIGTERM did not end it).
   */
  stop(signal?: 'SIGTERM' | 'SIGKILL', timeoutMs?: number): Promise<ExitStatus>;
}

export async function startBrokerProcess(
  nodeId: string,
  redisUrl: string,
  settings: Settings = {},
): Promise<BrokerProcess> {
  const { paths } = await ensureDevCertificates(TEST_CERTS_DIR);
  const ca = await readFile(paths.ca);
  const certsDir = mkdtempSync(join(tmpdir(), 'cashew-node-'));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? tmpdir(),
    HOST: '127.0.0.1',
    MQTTS_PORT: '0',
    WSS_PORT: '0',
    JWT_SECRET: TEST_SECRET,
    TLS_CERT: paths.cert,
    TLS_KEY: paths.key,
    CERTS_DIR: certsDir,
    LOG_LEVEL: 'info',
    REDIS_URL: redisUrl,
    NODE_ID: nodeId,
    ...(settings as Record<string, string>),
  };
  const broker = supervise({ name: nodeId, command: process.execPath, args: [CASHEW, 'broker'], env });

  const waitForLog = (match: (line: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> =>
    broker.waitForLine(match, timeoutMs);

  async function stop(
    signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM',
    timeoutMs = STOP_TIMEOUT_MS,
  ): Promise<ExitStatus> {
    const status = await broker.stop({ signal, timeoutMs });
    rmSync(certsDir, { recursive: true, force: true });
    return status;
  }

  let listening: LogLine;
  try {
    listening = await broker.waitForLine((line) => line.msg === 'cashew broker listening', START_TIMEOUT_MS);
  } catch (error) {
    await stop('SIGKILL');
    throw error;
  }
  const ports = listening.ports as { mqtts: number; wss: number };
  return {
    nodeId,
    pid: broker.pid,
    ports,
    mqttsUrl: `mqtts://localhost:${ports.mqtts}`,
    wssUrl: `wss://localhost:${ports.wss}/mqtt`,
    adminUrl: typeof listening.adminPort === 'number' ? `http://127.0.0.1:${listening.adminPort}` : undefined,
    ca,
    logLines: broker.lines,
    waitForLog,
    stop,
  };
}

/** A real mqtt.js client (MQTT 3.1.1 over TLS, or WSS) connected to one node. */
export function connectTo(
  node: BrokerProcess,
  clientId: string,
  token: string,
  options: IClientOptions & { transport?: 'mqtts' | 'wss' } = {},
): MqttClient {
  const { transport = 'mqtts', ...rest } = options;
  return mqtt.connect(transport === 'mqtts' ? node.mqttsUrl : node.wssUrl, {
    clientId,
    username: 'JWT',
    password: token,
    ca: node.ca,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...rest,
  });
}

/** Messages a client receives, awaitable by count. */
export function collect(client: MqttClient): {
  readonly messages: Array<{ topic: string; payload: string }>;
  waitFor(count: number, timeoutMs?: number): Promise<Array<{ topic: string; payload: string }>>;
} {
  const messages: Array<{ topic: string; payload: string }> = [];
  const waiters = new Set<() => void>();
  client.on('message', (topic, payload) => {
    messages.push({ topic, payload: payload.toString('utf8') });
    for (const waiter of waiters) waiter();
  });
  return {
    messages,
    waitFor(count, timeoutMs = 10_000) {
      if (messages.length >= count) return Promise.resolve(messages);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`received ${messages.length} of ${count} messages`));
        }, timeoutMs);
        const check = (): void => {
          if (messages.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(messages);
        };
        waiters.add(check);
      });
    },
  };
}

/** Resolves when the client has been closed by the broker (or errors), within a timeout. */
export function closedByBroker(client: MqttClient, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the broker did not close the connection')), timeoutMs);
    client.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
